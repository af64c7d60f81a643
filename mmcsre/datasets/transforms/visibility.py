"""A 0/1 joint visibility channel (SR-TSL, STF)."""
from typing import Dict

import numpy as np
from mmaction.registry import TRANSFORMS
from mmcv.transforms import BaseTransform


@TRANSFORMS.register_module()
class AddVisibilityChannel(BaseTransform):
    """Append a channel that is 1 where a joint is visible, 0 elsewhere.

    STF (after SR-TSL) feeds a visibility channel next to the coordinates,
    1 for visible and 0 for invisible joints, so zero-padded persons and
    frames are told apart from joints at the origin. A joint is visible

    - with ``keypoint_score`` (2D detections): when its score is above
      ``score_thr``;
    - without a score, ``per_joint=False``: when its person has a non-zero
      coordinate in that frame (every joint of a present person is
      visible, STF's "initial visibility 1"; a joint centred exactly on 0
      by ``SkeletonPreNormalize`` stays visible);
    - without a score, ``per_joint=True``: when its own coordinates are
      non-zero (data that marks missing joints by zeros, not centred).

    Place it after ``SkeletonPreNormalize`` (which would shift the channel)
    and before ``SkeletonStreamFeature``, which then appends the score: the
    channels are ``coords, visibility[, score]``. The model's
    ``SkeletonDataPreprocessor(num_coords=...)`` must count only the
    coordinates: it then averages the visibility over a bone's two joints
    and a motion's two frames (1 both visible, 0.5 one, 0 none) instead of
    differencing it.

    Required Keys: ``keypoint`` (..., V, C), ``keypoint_score`` (optional,
    (..., V)).

    Modified Keys: ``keypoint`` becomes (..., V, C + 1), float32.

    Args:
        score_thr (float): Score above which a joint is visible.
            Defaults to 0.
        use_score (bool): Use ``keypoint_score`` when present.
            Defaults to True.
        per_joint (bool): Without a score, decide per joint instead of per
            person. Defaults to False.
    """

    def __init__(self,
                 score_thr: float = 0.,
                 use_score: bool = True,
                 per_joint: bool = False) -> None:
        self.score_thr = score_thr
        self.use_score = use_score
        self.per_joint = per_joint

    def transform(self, results: Dict) -> Dict:
        """Append the visibility to ``results['keypoint']``.

        Args:
            results (dict): The sample.

        Returns:
            dict: The sample with one more channel.
        """
        kp = results['keypoint'].astype(np.float32)
        score = results.get('keypoint_score') if self.use_score else None
        if score is not None:
            if score.shape != kp.shape[:-1]:
                raise ValueError(
                    f"{results.get('frame_dir', '<sample>')}: keypoint_score "
                    f'has shape {score.shape}, keypoint {kp.shape}; add the '
                    'visibility before FormatGCNInput')
            visible = score > self.score_thr
        else:
            visible = np.abs(kp).sum(-1) > 0  # (..., V)
            if not self.per_joint:
                visible = np.broadcast_to(
                    visible.any(-1, keepdims=True), visible.shape)
        results['keypoint'] = np.concatenate(
            [kp, visible[..., None].astype(np.float32)], axis=-1)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(score_thr={self.score_thr}, '
                f'use_score={self.use_score}, per_joint={self.per_joint})')
