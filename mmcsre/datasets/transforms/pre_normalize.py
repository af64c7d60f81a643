"""Layout-aware pre-normalisation of skeleton sequences."""
from typing import Dict, Union

import numpy as np
from mmaction.registry import TRANSFORMS
from mmcv.transforms import BaseTransform

from mmcsre.structures import SkeletonLayout, get_layout
from .skeleton_ops import rotation_aligning


@TRANSFORMS.register_module()
class SkeletonPreNormalize(BaseTransform):
    """Centre and (for 3D data) rotate a sequence into a canonical pose.

    Works for any layout, unlike mmaction2's ``PreNormalize3D`` which knows
    only NTU's joints. Steps, all defined by the first valid frame of the
    main person (the one present in most frames, moved to index 0):

    1. frames where the main person is all zero are dropped (at least one
       frame is always kept);
    2. ``align_center``: the layout's ``origin`` joint is moved to 0
       (absent joints stay 0);
    3. ``align_spine`` (3D only, needs ``layout.spine``): the spine vector is
       rotated onto +z;
    4. ``align_shoulder`` (3D only, needs ``layout.shoulders``): the
       right-to-left shoulder vector is rotated onto +x.

    Required Keys: ``keypoint`` (M, T, V, C), ``total_frames`` (optional),
    ``keypoint_score`` (optional, (M, T, V)).

    Modified Keys: ``keypoint``, ``total_frames``, ``keypoint_score``.

    Added Keys: ``body_center`` (C,).

    Args:
        layout (str | dict | SkeletonLayout): The skeleton layout.
            Defaults to ``'nturgb+d'``.
        align_center (bool): Translate the origin joint to 0.
            Defaults to True.
        align_spine (bool): Rotate the spine onto +z. Defaults to True.
        align_shoulder (bool): Rotate the shoulders onto +x.
            Defaults to True.
    """

    def __init__(self,
                 layout: Union[str, Dict, SkeletonLayout] = 'nturgb+d',
                 align_center: bool = True,
                 align_spine: bool = True,
                 align_shoulder: bool = True) -> None:
        self.layout = get_layout(layout)
        self.align_center = align_center
        self.align_spine = align_spine
        self.align_shoulder = align_shoulder

    def transform(self, results: Dict) -> Dict:
        """Normalise ``results['keypoint']``.

        Args:
            results (dict): The sample.

        Returns:
            dict: The sample, normalised.
        """
        kp = results['keypoint'].astype(np.float32)
        M, T, V, C = kp.shape
        if V != self.layout.num_node:
            raise ValueError(
                f"{results.get('frame_dir', '<sample>')}: keypoint has {V} "
                f'joints but layout {self.layout.name!r} has '
                f'{self.layout.num_node}')
        present = np.abs(kp).sum(axis=(2, 3)) > 1e-6  # (M, T)
        if not present.any():
            return results
        order = np.argsort(-present.sum(1), kind='stable')
        keep = present[order[0]]
        kp = kp[order][:, keep]
        if 'keypoint_score' in results:
            results['keypoint_score'] = results['keypoint_score'][order][:,
                                                                         keep]

        mask = (np.abs(kp).sum(-1, keepdims=True) > 1e-6)
        center = kp[0, 0, self.layout.origin].copy()
        if self.align_center:
            kp = (kp - center) * mask
        if C >= 3:
            xyz = kp[..., :3]
            if self.align_spine and self.layout.spine is not None:
                bottom, top = self.layout.spine
                rot = rotation_aligning(xyz[0, 0, top] - xyz[0, 0, bottom],
                                        np.array([0., 0., 1.]))
                xyz = xyz @ rot.T.astype(np.float32)
            if self.align_shoulder and self.layout.shoulders is not None:
                right, left = self.layout.shoulders
                rot = rotation_aligning(xyz[0, 0, right] - xyz[0, 0, left],
                                        np.array([1., 0., 0.]))
                xyz = xyz @ rot.T.astype(np.float32)
            kp[..., :3] = xyz
        results['keypoint'] = kp.astype(np.float32)
        results['total_frames'] = kp.shape[1]
        results['body_center'] = center
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(layout={self.layout.name!r}, '
                f'align_center={self.align_center}, '
                f'align_spine={self.align_spine}, '
                f'align_shoulder={self.align_shoulder})')
