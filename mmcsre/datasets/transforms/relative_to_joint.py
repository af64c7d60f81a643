"""Express every joint relative to one reference joint per frame."""
from typing import Dict

import numpy as np
from mmaction.registry import TRANSFORMS
from mmcv.transforms import BaseTransform


@TRANSFORMS.register_module()
class RelativeToJoint(BaseTransform):
    """Subtract the reference joint of each frame from every joint.

    With ``keep_trajectory`` the reference joint itself keeps its absolute
    position, so the body's motion through space is not lost: the joint
    representation of the official CTR-GCN / CSRE NW-UCLA feeder (reference:
    the spine, joint 2). Use it for joint streams only; bones and motions
    are computed from absolute joints.

    Required Keys: ``keypoint`` (M, T, V, C).

    Modified Keys: ``keypoint``.

    Args:
        joint (int): Reference joint index. Defaults to 2.
        keep_trajectory (bool): Keep the reference joint's absolute
            position. Defaults to True.
    """

    def __init__(self, joint: int = 2, keep_trajectory: bool = True) -> None:
        self.joint = joint
        self.keep_trajectory = keep_trajectory

    def transform(self, results: Dict) -> Dict:
        """Make ``results['keypoint']`` relative to the reference joint.

        Args:
            results (dict): The sample.

        Returns:
            dict: The sample with relative keypoints.
        """
        kp = np.asarray(results['keypoint'])
        if kp.ndim != 4 or not 0 <= self.joint < kp.shape[2]:
            raise ValueError(
                f'RelativeToJoint(joint={self.joint}) needs keypoints '
                f'(M, T, V, C) with V > {self.joint}, got {kp.shape}')
        ref = kp[:, :, self.joint:self.joint + 1]
        out = kp - ref
        if self.keep_trajectory:
            out[:, :, self.joint] = kp[:, :, self.joint]
        results['keypoint'] = out
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(joint={self.joint}, '
                f'keep_trajectory={self.keep_trajectory})')
