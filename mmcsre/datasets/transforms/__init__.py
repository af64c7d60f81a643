from .pre_normalize import SkeletonPreNormalize
from .skeleton_ops import joint_to_bone, rotation_aligning, to_motion
from .stream_feature import STREAMS, SkeletonStreamFeature

__all__ = [
    'SkeletonPreNormalize', 'SkeletonStreamFeature', 'STREAMS',
    'joint_to_bone', 'to_motion', 'rotation_aligning'
]
