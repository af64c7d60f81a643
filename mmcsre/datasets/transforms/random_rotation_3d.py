"""Random 3D rotation of skeleton sequences (CP-STN's spatial view)."""
from typing import Dict, Optional

import numpy as np
from mmaction.registry import TRANSFORMS
from mmcv.transforms import BaseTransform


def rodrigues(axis: np.ndarray, angle: float) -> np.ndarray:
    """Rotation matrix about ``axis`` by ``angle`` (Rodrigues' formula).

    ``R = I + sin(a) K + (1 - cos(a)) K^2`` with ``K`` the cross-product
    matrix of the unit axis.

    Args:
        axis (np.ndarray): (3, ) rotation axis, normalised here.
        angle (float): Angle in radians (right-hand rule).

    Returns:
        np.ndarray: (3, 3) rotation matrix, float64.
    """
    x, y, z = np.asarray(axis, dtype=np.float64) / np.linalg.norm(axis)
    K = np.array([[0., -z, y], [z, 0., -x], [-y, x, 0.]])
    return np.eye(3) + np.sin(angle) * K + (1 - np.cos(angle)) * (K @ K)


@TRANSFORMS.register_module()
class RandomRotation3D(BaseTransform):
    """Rotate the whole sequence about a random axis through the origin.

    The axis is uniform on the unit sphere and the angle uniform in
    ``[0, max_angle]`` (CP-STN, cp-stn.txt Sec. 3.2.2: ``[0, pi/6]``). One
    rotation per sample, the same for every person and frame; rotating
    about the origin keeps absent (all-zero) joints at zero. Uses numpy's
    global RNG, like mmaction2's transforms.

    Required Keys: ``keypoint`` (M, T, V, C), C >= ``num_coords``.

    Modified Keys: ``keypoint`` (its first ``num_coords`` channels).

    Args:
        max_angle (float): Largest angle in radians. Defaults to ``pi / 6``.
        num_coords (int): Number of coordinate channels (3 for x, y, z);
            later channels (a score) are left as they are. Defaults to 3.
    """

    def __init__(self,
                 max_angle: float = np.pi / 6,
                 num_coords: int = 3) -> None:
        if num_coords != 3:
            raise ValueError('RandomRotation3D needs 3D coordinates, got '
                             f'num_coords={num_coords}')
        self.max_angle = max_angle
        self.num_coords = num_coords

    def random_matrix(self) -> np.ndarray:
        """Draw one rotation matrix.

        Returns:
            np.ndarray: (3, 3) rotation matrix.
        """
        axis: Optional[np.ndarray] = None
        while axis is None or np.linalg.norm(axis) < 1e-8:
            axis = np.random.normal(size=3)
        angle = np.random.uniform(0, self.max_angle)
        return rodrigues(axis, angle)

    def transform(self, results: Dict) -> Dict:
        """Rotate ``results['keypoint']``.

        Args:
            results (dict): The sample.

        Returns:
            dict: The sample, rotated.
        """
        kp = results['keypoint']
        R = self.random_matrix().astype(kp.dtype)
        kp = kp.copy()
        kp[..., :3] = kp[..., :3] @ R.T
        results['keypoint'] = kp
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(max_angle={self.max_angle}, '
                f'num_coords={self.num_coords})')
