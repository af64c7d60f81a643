"""Pad a skeleton sequence to a fixed length by repeating it."""
from typing import Dict

import numpy as np
from mmaction.registry import TRANSFORMS
from mmcv.transforms import BaseTransform


@TRANSFORMS.register_module()
class PadByRepetition(BaseTransform):
    """Repeat a short sequence in time until it has ``clip_len`` frames.

    The STF paper pads every sequence to T=300 frames "by repeating the
    sequences", as SR-TSL and the MS-G3D preprocessing do: frames
    ``0, 1, ..., T-1, 0, 1, ...`` cut at ``clip_len``. With ``trim_empty``,
    leading and trailing frames where no person has a non-zero coordinate
    are dropped first, so the repeated part is the action, not padding
    (empty frames inside the sequence stay).

    Sequences of ``clip_len`` frames or more are left as they are (nothing
    is dropped here); a following ``UniformSampleFrames(clip_len)`` then
    picks ``clip_len`` of their frames, and keeps a padded sequence whole.

    Required Keys: ``keypoint`` (M, T, V, C), ``keypoint_score`` (optional,
    (M, T, V)).

    Modified Keys: ``keypoint``, ``keypoint_score``, ``total_frames``.

    Args:
        clip_len (int): Length to pad to. Defaults to 300.
        trim_empty (bool): Drop empty frames at both ends before repeating.
            Defaults to True.
    """

    def __init__(self, clip_len: int = 300, trim_empty: bool = True) -> None:
        if clip_len < 1:
            raise ValueError(f'clip_len must be >= 1, got {clip_len}')
        self.clip_len = clip_len
        self.trim_empty = trim_empty

    def transform(self, results: Dict) -> Dict:
        """Pad ``results['keypoint']`` (and its score) along time.

        Args:
            results (dict): The sample.

        Returns:
            dict: The sample, at least ``clip_len`` frames long.
        """
        kp = results['keypoint']
        num_frames = kp.shape[1]
        if num_frames >= self.clip_len:
            return results
        frames = np.arange(num_frames)
        if self.trim_empty:
            present = np.flatnonzero(np.abs(kp).sum(axis=(0, 2, 3)) > 0)
            if present.size:
                frames = frames[present[0]:present[-1] + 1]
        index = frames[np.arange(self.clip_len) % len(frames)]
        results['keypoint'] = kp[:, index]
        if 'keypoint_score' in results:
            results['keypoint_score'] = results['keypoint_score'][:, index]
        results['total_frames'] = self.clip_len
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(clip_len={self.clip_len}, '
                f'trim_empty={self.trim_empty})')
