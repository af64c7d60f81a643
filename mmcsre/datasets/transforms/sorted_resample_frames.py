"""Stretch-or-shrink a sequence to a fixed length by sorted random resampling
(training) or even spacing (testing)."""
from typing import Dict

import numpy as np
from mmaction.registry import TRANSFORMS
from mmcv.transforms import BaseTransform


@TRANSFORMS.register_module()
class SortedResampleFrames(BaseTransform):
    """Choose ``clip_len`` frame indices in temporal order, for any length.

    Training: ``clip_len`` draws without replacement from ``copies`` copies
    of every frame index, sorted. Short sequences are stretched (each frame
    repeated about ``clip_len / T`` times, in order) and long ones
    subsampled; unlike looping from a random start, the clip always spans the
    whole action from its first to its last phase. This is the NW-UCLA
    sampling of the official CTR-GCN / CSRE feeder (``copies=100``).
    Testing: ``clip_len`` evenly spaced indices from 0 to T - 1.

    Uses numpy's global RNG, like mmaction2's transforms. Writes the keys
    ``UniformSampleFrames`` writes, so ``PoseDecode`` follows as usual.

    Required Keys: ``total_frames`` (or ``keypoint`` (M, T, V, C)).

    Added Keys: ``frame_inds`` (clip_len, ), ``clip_len``, ``num_clips``
    (1), ``frame_interval`` (None).

    Args:
        clip_len (int): Frames per clip.
        copies (int): Copies of each frame index drawn from in training;
            bounds how often a frame can repeat. Defaults to 100.
        test_mode (bool): Even spacing instead of random draws.
            Defaults to False.
    """

    def __init__(self,
                 clip_len: int,
                 copies: int = 100,
                 test_mode: bool = False) -> None:
        if clip_len < 1 or copies < 1:
            raise ValueError(f'clip_len and copies must be >= 1, got '
                             f'{clip_len} and {copies}')
        self.clip_len = clip_len
        self.copies = copies
        self.test_mode = test_mode

    def frame_indices(self, num_frames: int) -> np.ndarray:
        """The (clip_len, ) int64 indices for a sequence of ``num_frames``.

        Args:
            num_frames (int): T, at least 1.

        Returns:
            np.ndarray: Non-decreasing indices in ``[0, T)``.
        """
        if num_frames < 1:
            raise ValueError('SortedResampleFrames got an empty sequence')
        if self.test_mode:
            return np.linspace(0, num_frames - 1,
                               self.clip_len).astype(np.int64)
        pool = num_frames * self.copies
        if pool < self.clip_len:
            raise ValueError(f'{num_frames} frames x {self.copies} copies '
                             f'cannot fill {self.clip_len} frames')
        draws = np.random.choice(pool, self.clip_len, replace=False)
        return np.sort(draws % num_frames).astype(np.int64)

    def transform(self, results: Dict) -> Dict:
        """Add the frame indices to ``results``.

        Args:
            results (dict): The sample.

        Returns:
            dict: The sample with ``frame_inds`` and clip keys.
        """
        num_frames = results.get('total_frames')
        if num_frames is None:
            num_frames = results['keypoint'].shape[1]
        results['frame_inds'] = self.frame_indices(int(num_frames))
        results['clip_len'] = self.clip_len
        results['frame_interval'] = None
        results['num_clips'] = 1
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(clip_len={self.clip_len}, '
                f'copies={self.copies}, test_mode={self.test_mode})')
