"""Joint / bone / motion stream features for any skeleton layout."""
from typing import Dict, Sequence, Union

import numpy as np
from mmaction.registry import TRANSFORMS
from mmcv.transforms import BaseTransform

from mmcsre.structures import SkeletonLayout, get_layout
from .skeleton_ops import joint_to_bone, to_motion

STREAMS = ('j', 'b', 'jm', 'bm')


@TRANSFORMS.register_module()
class SkeletonStreamFeature(BaseTransform):
    """Compute the joint (j), bone (b), joint-motion (jm) or bone-motion (bm)
    stream of a skeleton sequence, for any layout.

    mmaction2's ``GenSkeFeat`` knows only NTU, COCO and OpenPose; this takes
    the layout (built-in name or custom dict). With ``keypoint_score``
    present (2D detections) and ``with_score``, the score is appended as one
    more channel: averaged over a bone's two joints and over a motion's two
    frames, never differenced.

    Required Keys: ``keypoint`` (M, T, V, C), ``keypoint_score`` (optional,
    (M, T, V)).

    Modified Keys: ``keypoint`` becomes (M, T, V, C' * len(feats)) if
    ``axis=-1`` with C' = C (+1 with a score), float32.

    Removed Keys: ``keypoint_score`` (merged into ``keypoint``).

    Args:
        layout (str | dict | SkeletonLayout): The skeleton layout.
            Defaults to ``'nturgb+d'``.
        feats (str | Sequence[str]): Stream(s) among ``'j'``, ``'b'``,
            ``'jm'``, ``'bm'``; several are concatenated along ``axis``.
            Defaults to ``'j'``.
        axis (int): Axis to concatenate several streams on. Defaults to -1.
        with_score (bool): Append ``keypoint_score`` as a channel.
            Defaults to True.
    """

    def __init__(self,
                 layout: Union[str, Dict, SkeletonLayout] = 'nturgb+d',
                 feats: Union[str, Sequence[str]] = 'j',
                 axis: int = -1,
                 with_score: bool = True) -> None:
        self.layout = get_layout(layout)
        self.feats = (feats, ) if isinstance(feats, str) else tuple(feats)
        bad = [f for f in self.feats if f not in STREAMS]
        if bad or not self.feats:
            raise ValueError(f'unknown stream(s) {bad}; choose from {STREAMS}')
        self.axis = axis
        self.with_score = with_score

    def transform(self, results: Dict) -> Dict:
        """Replace ``results['keypoint']`` by the requested stream(s).

        Args:
            results (dict): The sample.

        Returns:
            dict: The sample with the stream features.
        """
        kp = results['keypoint'].astype(np.float32)
        num_coords = kp.shape[-1]
        score = results.pop('keypoint_score', None)
        if score is not None and self.with_score:
            kp = np.concatenate([kp, score[..., None].astype(np.float32)], -1)
        joint = kp
        bone = None
        out = []
        for feat in self.feats:
            if feat.startswith('b') and bone is None:
                bone = joint_to_bone(joint, self.layout, num_coords)
            base = bone if feat.startswith('b') else joint
            out.append(
                to_motion(base, num_coords) if feat.endswith('m') else base)
        results['keypoint'] = np.concatenate(out, axis=self.axis)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(layout={self.layout.name!r}, '
                f'feats={list(self.feats)}, axis={self.axis}, '
                f'with_score={self.with_score})')
