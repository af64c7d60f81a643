"""Random viewpoint and scale, then min-max normalisation (NW-UCLA, as the CTR-
GCN / CSRE code prepares it)."""
from typing import Dict, Sequence

import numpy as np
from mmaction.registry import TRANSFORMS
from mmcv.transforms import BaseTransform


def view_matrix(angle_x: float, angle_y: float, scale: float) -> np.ndarray:
    """The (3, 3) matrix applied to row vectors: ``p' = p @ (Ry Rx S)``.

    Args:
        angle_x (float): Rotation about x, in degrees.
        angle_y (float): Rotation about y, in degrees.
        scale (float): Isotropic scale.

    Returns:
        np.ndarray: (3, 3) float64 matrix.
    """
    ax, ay = np.radians(angle_x), np.radians(angle_y)
    rx = np.array([[1., 0., 0.], [0., np.cos(ax), np.sin(ax)],
                   [0., -np.sin(ax), np.cos(ax)]])
    ry = np.array([[np.cos(ay), 0., -np.sin(ay)], [0., 1., 0.],
                   [np.sin(ay), 0., np.cos(ay)]])
    return ry @ rx @ (scale * np.eye(3))


@TRANSFORMS.register_module()
class RandomViewNormalize(BaseTransform):
    """Centre, randomly rotate and scale, then min-max normalise to [-1, 1].

    The NW-UCLA preparation of the official CTR-GCN / CSRE feeder:

    1. subtract ``center_joint`` of the first frame (of the first person);
    2. training only: rotate about x and y by integer angles drawn uniformly
       from ``[-max_angle, max_angle]`` degrees and scale by a factor drawn
       uniformly from ``scale_range`` (``test_mode=True``: no rotation,
       scale 1);
    3. per axis, map the sequence's range over all persons, frames and
       joints to [-1, 1] (an axis of zero range becomes 0).

    Uses numpy's global RNG, like mmaction2's transforms.

    Required Keys: ``keypoint`` (M, T, V, 3).

    Modified Keys: ``keypoint`` (float32).

    Args:
        center_joint (int): Joint moved to the origin. Defaults to 1 (the
            official feeder's choice for NW-UCLA).
        max_angle (float): Largest rotation, degrees. Defaults to 60.
        scale_range (Sequence[float]): Range of the random scale.
            Defaults to (0.5, 1.5).
        test_mode (bool): Centre and normalise only. Defaults to False.
    """

    def __init__(self,
                 center_joint: int = 1,
                 max_angle: float = 60.,
                 scale_range: Sequence[float] = (0.5, 1.5),
                 test_mode: bool = False) -> None:
        if max_angle < 0:
            raise ValueError(f'max_angle must be >= 0, got {max_angle}')
        low, high = scale_range
        if not 0 < low <= high:
            raise ValueError(f'scale_range must be 0 < low <= high, got '
                             f'{tuple(scale_range)}')
        self.center_joint = center_joint
        self.max_angle = max_angle
        self.scale_range = (float(low), float(high))
        self.test_mode = test_mode

    def transform(self, results: Dict) -> Dict:
        """Normalise ``results['keypoint']``.

        Args:
            results (dict): The sample.

        Returns:
            dict: The sample with the transformed keypoints.
        """
        kp = np.asarray(results['keypoint'], dtype=np.float64)
        if kp.ndim != 4 or kp.shape[-1] != 3 or kp.shape[1] == 0:
            raise ValueError(
                'RandomViewNormalize needs 3D keypoints (M, T>0, V, 3), got '
                f'{kp.shape} for {results.get("frame_dir", "a sample")}')
        points = kp - kp[0, 0, self.center_joint]
        if not self.test_mode:
            bound = int(np.floor(self.max_angle))
            angle_x, angle_y = np.random.randint(-bound, bound + 1, size=2)
            scale = np.random.uniform(*self.scale_range)
            points = points @ view_matrix(angle_x, angle_y, scale)
        flat = points.reshape(-1, 3)
        low, high = flat.min(0), flat.max(0)
        span = high - low
        unit = np.where(span > 0, (flat - low) / np.where(span > 0, span, 1),
                        0.5)
        results['keypoint'] = (unit * 2 -
                               1).reshape(kp.shape).astype(np.float32)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(center_joint={self.center_joint}'
                f', max_angle={self.max_angle}, scale_range='
                f'{self.scale_range}, test_mode={self.test_mode})')
