"""Gradient-based spatio-temporal focus Q of STF (Ke et al., AAAI 2022, Eq.

2) and its mapping to the input's frames and joints.
"""
from typing import Sequence, Tuple

import torch
import torch.nn.functional as F

# Grad-CAM maps of a probability span ~1e-3 or less, so the guard against a
# zero range must be far below that.
_MIN_RANGE = 1e-12


def class_probability(logits: torch.Tensor,
                      classes: torch.Tensor) -> torch.Tensor:
    """Softmax probability of one class per sample.

    Args:
        logits (torch.Tensor): (N, K) classification scores.
        classes (torch.Tensor): (N, ) class per sample.

    Returns:
        torch.Tensor: (N, ) probabilities, differentiable.
    """
    return logits.softmax(-1).gather(1, classes[:, None]).squeeze(1)


def min_max_normalize(cam: torch.Tensor) -> torch.Tensor:
    """Min-max normalise each sample's map to [0, 1].

    Args:
        cam (torch.Tensor): (N, ...) maps.

    Returns:
        torch.Tensor: Same shape; a constant map becomes all zeros.
    """
    flat = cam.flatten(1)
    low = flat.min(1, keepdim=True).values
    high = flat.max(1, keepdim=True).values
    return ((flat - low) / (high - low).clamp_min(_MIN_RANGE)).view_as(cam)


def grad_cam(feats: torch.Tensor, grads: torch.Tensor) -> torch.Tensor:
    """Eq. 2 without the normalisation: ReLU of the feature map weighted per
    channel by its spatio-temporal mean gradient.

    Args:
        feats (torch.Tensor): (N, M, C, T, V) feature map X^l.
        grads (torch.Tensor): (N, M, C, T, V) gradient of the class
            probability w.r.t. ``feats``.

    Returns:
        torch.Tensor: (N, M, T, V) unnormalised focus.
    """
    weights = grads.mean(dim=(3, 4), keepdim=True)
    return F.relu((weights * feats).sum(2))


def spatio_temporal_focus(score: torch.Tensor,
                          feats: Sequence[torch.Tensor],
                          create_graph: bool = True
                          ) -> Tuple[torch.Tensor, ...]:
    """Spatio-temporal focus Q of ``score`` on each feature map (Eq. 2).

    ``score`` sums per-sample class probabilities; each sample's probability
    depends on its own features only where the layers after the feature map
    keep samples apart (true for the last stage and a pooling head; for
    earlier stages, train-mode BatchNorm couples samples slightly, as in
    the paper's batched implementation).

    Args:
        score (torch.Tensor): (N, ) class probabilities y-hat.
        feats (Sequence[torch.Tensor]): Feature maps, each (N, M, C, T, V),
            that ``score`` was computed from.
        create_graph (bool): Keep the graph of the gradients so losses on Q
            train the network (second-order gradients). Defaults to True.

    Returns:
        tuple[torch.Tensor]: One (N, M, T, V) focus per feature map,
        min-max normalised per sample to [0, 1].
    """
    grads = torch.autograd.grad(
        score.sum(), list(feats), create_graph=create_graph)
    return tuple(
        min_max_normalize(grad_cam(f, g)) for f, g in zip(feats, grads))


def resample_time(focus: torch.Tensor, num_frames: int) -> torch.Tensor:
    """Linearly resample a focus to another number of frames.

    Args:
        focus (torch.Tensor): (N, M, T, V) focus.
        num_frames (int): Frames T' wanted.

    Returns:
        torch.Tensor: (N, M, T', V); ``focus`` itself when T' == T.
    """
    n, m, t, v = focus.shape
    if t == num_frames:
        return focus
    flat = focus.permute(0, 1, 3, 2).reshape(n * m * v, 1, t)
    flat = F.interpolate(
        flat, size=num_frames, mode='linear', align_corners=False)
    return flat.view(n, m, v, num_frames).permute(0, 1, 3, 2)


def focus_to_input(focus: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
    """Map a focus to the input's frames and joints.

    GCN stages keep the joints and stride the frames, so the focus is
    resampled along time to the input's T; every channel of a joint shares
    its value.

    Args:
        focus (torch.Tensor): (N, M, T', V) focus.
        inputs (torch.Tensor): (N, M, T, V, C) input skeletons.

    Returns:
        torch.Tensor: (N, M, T, V, 1) mask, broadcastable to ``inputs``.
    """
    n, m, _, v = focus.shape
    if (n, m, v) != (inputs.shape[0], inputs.shape[1], inputs.shape[3]):
        raise ValueError(
            f'focus of shape {tuple(focus.shape)} (N, M, T, V) does not '
            f'match the input {tuple(inputs.shape)} (N, M, T, V, C): the '
            'focus stage must keep the persons and joints of the input')
    return resample_time(focus, inputs.shape[2])[..., None]
