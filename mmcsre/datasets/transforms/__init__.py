from .pad_by_repetition import PadByRepetition
from .pre_normalize import SkeletonPreNormalize
from .random_joint_jitter import RandomJointJitter
from .random_rotation_3d import RandomRotation3D
from .random_shear import RandomShear
from .random_view_normalize import RandomViewNormalize
from .relative_to_joint import RelativeToJoint
from .skeleton_ops import joint_to_bone, rotation_aligning, to_motion
from .sorted_resample_frames import SortedResampleFrames
from .stream_feature import STREAMS, SkeletonStreamFeature
from .temporal_mask_tail import TemporalMaskTail
from .two_view_skeleton import TwoViewSkeleton
from .visibility import AddVisibilityChannel

__all__ = [
    'SkeletonPreNormalize', 'SkeletonStreamFeature', 'STREAMS',
    'joint_to_bone', 'to_motion', 'rotation_aligning', 'RandomRotation3D',
    'RandomShear', 'RandomJointJitter', 'TemporalMaskTail', 'TwoViewSkeleton',
    'PadByRepetition', 'AddVisibilityChannel', 'RandomViewNormalize',
    'RelativeToJoint', 'SortedResampleFrames'
]
