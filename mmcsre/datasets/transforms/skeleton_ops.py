"""Layout-aware skeleton array operations shared by the transforms.

Arrays are (M, T, V, C): persons, frames, joints, channels. The first
``num_coords`` channels are coordinates; any further channels (a detector's
confidence, a visibility flag) are carried along as attributes: they are
averaged, never differenced.
"""
from typing import Optional

import numpy as np

from mmcsre.structures import SkeletonLayout


def joint_to_bone(keypoint: np.ndarray,
                  layout: SkeletonLayout,
                  num_coords: Optional[int] = None) -> np.ndarray:
    """Turn joints into bones: ``bone[v] = joint[v] - joint[parent(v)]``.

    Args:
        keypoint (np.ndarray): (M, T, V, C) joints.
        layout (SkeletonLayout): Gives each joint's parent.
        num_coords (int, optional): Number of coordinate channels; the rest
            become the mean of the two end joints. Defaults to all channels.

    Returns:
        np.ndarray: (M, T, V, C) bones; the centre joint's bone is zero.
    """
    if keypoint.shape[2] != layout.num_node:
        raise ValueError(f'keypoint has {keypoint.shape[2]} joints, layout '
                         f'{layout.name!r} has {layout.num_node}')
    nc = keypoint.shape[-1] if num_coords is None else num_coords
    parent = keypoint[:, :, layout.parents]
    bone = np.empty_like(keypoint)
    bone[..., :nc] = keypoint[..., :nc] - parent[..., :nc]
    bone[..., nc:] = (keypoint[..., nc:] + parent[..., nc:]) / 2
    return bone


def to_motion(feature: np.ndarray,
              num_coords: Optional[int] = None) -> np.ndarray:
    """Temporal difference ``x[t + 1] - x[t]``; the last frame's is zero.

    Args:
        feature (np.ndarray): (M, T, V, C) joints or bones.
        num_coords (int, optional): Number of coordinate channels; the rest
            become the mean of the two frames. Defaults to all channels.

    Returns:
        np.ndarray: (M, T, V, C) motion.
    """
    nc = feature.shape[-1] if num_coords is None else num_coords
    motion = np.zeros_like(feature)
    motion[:, :-1, :, :nc] = feature[:, 1:, :, :nc] - feature[:, :-1, :, :nc]
    motion[:, :-1, :,
           nc:] = (feature[:, 1:, :, nc:] + feature[:, :-1, :, nc:]) / 2
    motion[:, -1:, :, nc:] = feature[:, -1:, :, nc:]
    return motion


def rotation_aligning(vector: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The 3x3 rotation that turns ``vector``'s direction into ``target``'s.

    Args:
        vector (np.ndarray): (3,) source direction.
        target (np.ndarray): (3,) target direction.

    Returns:
        np.ndarray: (3, 3) rotation R with ``R @ v / |v| == t / |t|``; the
        identity when either vector is (close to) zero or they are parallel.
    """
    v = np.asarray(vector, dtype=np.float64)
    t = np.asarray(target, dtype=np.float64)
    nv, nt = np.linalg.norm(v), np.linalg.norm(t)
    if nv < 1e-6 or nt < 1e-6:
        return np.eye(3)
    v, t = v / nv, t / nt
    axis = np.cross(v, t)
    sin, cos = np.linalg.norm(axis), float(np.dot(v, t))
    if sin < 1e-8:
        if cos > 0:
            return np.eye(3)
        # Opposite directions: half a turn about any axis orthogonal to v.
        helper = np.eye(3)[np.argmin(np.abs(v))]
        axis = np.cross(v, helper)
        axis /= np.linalg.norm(axis)
        return 2 * np.outer(axis, axis) - np.eye(3)
    k = axis / sin
    K = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + sin * K + (1 - cos) * K @ K
