"""Random Gaussian jitter of individual joints (CP-STN's spatial view)."""
from typing import Dict

import numpy as np
from mmaction.registry import TRANSFORMS
from mmcv.transforms import BaseTransform


@TRANSFORMS.register_module()
class RandomJointJitter(BaseTransform):
    """Add Gaussian noise to randomly chosen joints.

    Each joint of each person and frame is chosen independently with
    probability ``prob`` (CP-STN, cp-stn.txt Sec. 3.2.2: 0.2) and its
    coordinates get i.i.d. ``N(0, sigma^2)`` noise. Absent joints (all
    coordinates zero, e.g. zero-padded persons or frames) are never
    jittered. Uses numpy's global RNG, like mmaction2's transforms.

    Required Keys: ``keypoint`` (M, T, V, C), C >= ``num_coords``.

    Modified Keys: ``keypoint`` (its first ``num_coords`` channels).

    Args:
        prob (float): Probability that a joint is jittered. Defaults to 0.2.
        sigma (float): Standard deviation of the noise, in the units of the
            coordinates (metres for pre-normalised Kinect data; the paper
            does not give it). Defaults to 0.01.
        num_coords (int): Number of coordinate channels; later channels (a
            score) are left as they are. Defaults to 3.
    """

    def __init__(self,
                 prob: float = 0.2,
                 sigma: float = 0.01,
                 num_coords: int = 3) -> None:
        if not 0 <= prob <= 1:
            raise ValueError(f'prob must be in [0, 1], got {prob}')
        self.prob = prob
        self.sigma = sigma
        self.num_coords = num_coords

    def transform(self, results: Dict) -> Dict:
        """Jitter ``results['keypoint']``.

        Args:
            results (dict): The sample.

        Returns:
            dict: The sample; ``keypoint`` jittered.
        """
        kp = results['keypoint'].copy()
        d = self.num_coords
        coords = kp[..., :d]
        present = np.abs(coords).sum(-1) > 0  # (M, T, V)
        chosen = (np.random.uniform(size=present.shape) < self.prob) & present
        noise = np.random.normal(0, self.sigma, size=coords.shape)
        kp[..., :d] = coords + (noise * chosen[..., None]).astype(kp.dtype)
        results['keypoint'] = kp
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(prob={self.prob}, '
                f'sigma={self.sigma}, num_coords={self.num_coords})')
