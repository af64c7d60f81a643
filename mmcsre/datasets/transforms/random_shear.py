"""Random shear of skeleton sequences (CP-STN's spatial view)."""
from typing import Dict

import numpy as np
from mmaction.registry import TRANSFORMS
from mmcv.transforms import BaseTransform


def shear_matrix(ratios: np.ndarray) -> np.ndarray:
    """Shear matrix with unit diagonal and the given off-diagonal ratios.

    For 3D coordinates and ratios ``(a, b, c, d, e, f)``::

        S = [[1, a, b],
             [c, 1, d],
             [e, f, 1]]

    so ``x' = x + a y + b z``, ``y' = c x + y + d z``, ``z' = e x + f y +
    z``: each coordinate moves in proportion to the others (the shear used
    by SkeletonCLR / AimCLR, which CP-STN's Sec. 3.2.2 describes).

    Args:
        ratios (np.ndarray): (D * (D - 1), ) off-diagonal ratios in
            row-major order.

    Returns:
        np.ndarray: (D, D) shear matrix.
    """
    ratios = np.asarray(ratios, dtype=np.float64)
    dim = int(round((1 + np.sqrt(1 + 4 * ratios.size)) / 2))
    if dim * (dim - 1) != ratios.size:
        raise ValueError(f'{ratios.size} ratios fit no square matrix')
    S = np.eye(dim)
    S[~np.eye(dim, dtype=bool)] = ratios
    return S


@TRANSFORMS.register_module()
class RandomShear(BaseTransform):
    """Shear the whole sequence with random ratios.

    Coordinates are mapped ``x' = S x`` with ``S`` from :func:`shear_matrix`
    and each off-diagonal ratio uniform in ``[-magnitude, magnitude]``
    (CP-STN, cp-stn.txt Sec. 3.2.2: ``[-1, 1]``). One matrix per sample; the
    map is linear, so absent (all-zero) joints stay zero. Uses numpy's
    global RNG, like mmaction2's transforms.

    Required Keys: ``keypoint`` (M, T, V, C), C >= ``num_coords``.

    Modified Keys: ``keypoint`` (its first ``num_coords`` channels).

    Args:
        magnitude (float): Largest absolute shear ratio. Defaults to 1.0.
        num_coords (int): Number of coordinate channels; later channels (a
            score) are left as they are. Defaults to 3.
    """

    def __init__(self, magnitude: float = 1.0, num_coords: int = 3) -> None:
        self.magnitude = magnitude
        self.num_coords = num_coords

    def random_matrix(self) -> np.ndarray:
        """Draw one shear matrix.

        Returns:
            np.ndarray: (num_coords, num_coords) shear matrix.
        """
        d = self.num_coords
        ratios = np.random.uniform(-self.magnitude, self.magnitude,
                                   d * (d - 1))
        return shear_matrix(ratios)

    def transform(self, results: Dict) -> Dict:
        """Shear ``results['keypoint']``.

        Args:
            results (dict): The sample.

        Returns:
            dict: The sample, sheared.
        """
        kp = results['keypoint'].copy()
        S = self.random_matrix().astype(kp.dtype)
        d = self.num_coords
        kp[..., :d] = kp[..., :d] @ S.T
        results['keypoint'] = kp
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(magnitude={self.magnitude}, '
                f'num_coords={self.num_coords})')
