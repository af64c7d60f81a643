"""Layout-aware skeleton array operations shared by the transforms.

Arrays are (..., T, V, C): any leading dimensions (persons, or a batch of clips
of persons), frames, joints, channels; numpy arrays for the data pipeline,
torch tensors for the data preprocessor. The first ``num_coords`` channels are
coordinates; any further channels (a detector's confidence, a visibility flag)
are carried along as attributes: they are averaged, never differenced.
"""
from typing import Optional, Sequence, TypeVar

import numpy as np
import torch

from mmcsre.structures import SkeletonLayout

ArrayLike = TypeVar('ArrayLike', np.ndarray, torch.Tensor)


def _concat(parts: Sequence[ArrayLike]) -> ArrayLike:
    """Concatenate arrays or tensors along the last axis."""
    if isinstance(parts[0], torch.Tensor):
        return torch.cat(parts, dim=-1)
    return np.concatenate(parts, axis=-1)


def joint_to_bone(keypoint: ArrayLike,
                  layout: SkeletonLayout,
                  num_coords: Optional[int] = None) -> ArrayLike:
    """Turn joints into bones: ``bone[v] = joint[v] - joint[parent(v)]``.

    Args:
        keypoint (np.ndarray | torch.Tensor): (..., T, V, C) joints, any
            leading dimensions (e.g. (M, T, V, C) or a batch).
        layout (SkeletonLayout): Gives each joint's parent.
        num_coords (int, optional): Number of coordinate channels; the rest
            become the mean of the two end joints. Defaults to all channels.

    Returns:
        np.ndarray | torch.Tensor: (..., T, V, C) bones, same type; the
        centre joint's bone is zero.
    """
    if keypoint.shape[-2] != layout.num_node:
        raise ValueError(f'keypoint has {keypoint.shape[-2]} joints, layout '
                         f'{layout.name!r} has {layout.num_node}')
    nc = keypoint.shape[-1] if num_coords is None else num_coords
    parent = keypoint[..., list(layout.parents), :]
    return _concat([
        keypoint[..., :nc] - parent[..., :nc],
        (keypoint[..., nc:] + parent[..., nc:]) / 2
    ])


def to_motion(feature: ArrayLike,
              num_coords: Optional[int] = None) -> ArrayLike:
    """Temporal difference ``x[t + 1] - x[t]``; the last frame's is zero.

    Args:
        feature (np.ndarray | torch.Tensor): (..., T, V, C) joints or bones,
            any leading dimensions.
        num_coords (int, optional): Number of coordinate channels; the rest
            become the mean of the two frames (the last frame keeps its
            own). Defaults to all channels.

    Returns:
        np.ndarray | torch.Tensor: (..., T, V, C) motion, same type.
    """
    nc = feature.shape[-1] if num_coords is None else num_coords
    coords, attrs = feature[..., :nc], feature[..., nc:]
    diff = coords[..., 1:, :, :] - coords[..., :-1, :, :]
    mean = (attrs[..., 1:, :, :] + attrs[..., :-1, :, :]) / 2
    if isinstance(feature, torch.Tensor):
        diff = torch.cat([diff, torch.zeros_like(coords[..., -1:, :, :])], -3)
        mean = torch.cat([mean, attrs[..., -1:, :, :]], -3)
    else:
        diff = np.concatenate([diff,
                               np.zeros_like(coords[..., -1:, :, :])], -3)
        mean = np.concatenate([mean, attrs[..., -1:, :, :]], -3)
    return _concat([diff, mean])


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
