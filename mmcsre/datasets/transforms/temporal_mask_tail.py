"""Mask the end of a sequence (CP-STN's temporal view)."""
from typing import Dict

import numpy as np
from mmaction.registry import TRANSFORMS
from mmcv.transforms import BaseTransform


@TRANSFORMS.register_module()
class TemporalMaskTail(BaseTransform):
    """Keep the first ``T'`` frames of each clip and zero the rest.

    CP-STN's temporal pretext task (cp-stn.txt Sec. 3.2.3, Eq. 7) encodes
    the past ``x_1 .. x_T'`` and regenerates the masked frames
    ``x_T'+1 .. x_T``. ``T' = round(keep_ratio * T)``, clipped to
    ``[1, T - 1]``; the paper does not give the ratio. The masked frames are
    zeroed rather than cut off so that every view of a batch has the same
    length; the original sequence, the reconstruction target, is kept by
    :class:`TwoViewSkeleton`. With several clips concatenated along time
    (``num_clips`` > 1) each clip is masked the same way.

    Required Keys: ``keypoint`` (M, T, V, C), ``num_clips`` (optional).

    Modified Keys: ``keypoint``.

    Added Keys: ``temporal_mask`` (T, ) bool, True for the kept frames.

    Args:
        keep_ratio (float): Fraction of each clip's frames that is kept, in
            (0, 1). Defaults to 0.5.
    """

    def __init__(self, keep_ratio: float = 0.5) -> None:
        if not 0 < keep_ratio < 1:
            raise ValueError(f'keep_ratio must be in (0, 1), got {keep_ratio}')
        self.keep_ratio = keep_ratio

    def clip_mask(self, clip_len: int) -> np.ndarray:
        """The kept frames of one clip.

        Args:
            clip_len (int): Frames per clip T, at least 2.

        Returns:
            np.ndarray: (T, ) bool, True for the first ``T'`` frames.
        """
        if clip_len < 2:
            raise ValueError('TemporalMaskTail needs clips of at least 2 '
                             f'frames, got {clip_len}')
        keep = int(np.clip(round(self.keep_ratio * clip_len), 1, clip_len - 1))
        return np.arange(clip_len) < keep

    def transform(self, results: Dict) -> Dict:
        """Mask the tail of ``results['keypoint']``.

        Args:
            results (dict): The sample.

        Returns:
            dict: The sample with ``keypoint`` masked and ``temporal_mask``.
        """
        kp = results['keypoint']
        num_clips = results.get('num_clips', 1)
        total = kp.shape[1]
        if total % num_clips:
            raise ValueError(f'{total} frames do not split into {num_clips} '
                             'clips')
        mask = np.tile(self.clip_mask(total // num_clips), num_clips)
        results['keypoint'] = kp * mask[None, :, None, None].astype(kp.dtype)
        results['temporal_mask'] = mask
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(keep_ratio={self.keep_ratio})'
