"""STF's focus Q (Eq.

2): Grad-CAM vs finite differences, normalisation,
second-order gradients and the mapping to the input.
"""
import pytest
import torch
import torch.nn as nn

from mmcsre.models.heads.spatio_temporal_focus import (class_probability,
                                                       focus_to_input,
                                                       min_max_normalize,
                                                       resample_time,
                                                       spatio_temporal_focus)


class TinyNet(nn.Module):
    """Two conv stages on (N*M, C, T, V) and a pooling linear head."""

    def __init__(self, num_person=2, num_classes=4):
        super().__init__()
        self.num_person = num_person
        self.stage1 = nn.Conv2d(3, 5, (3, 1), padding=(1, 0))
        self.stage2 = nn.Sequential(
            nn.Conv2d(5, 6, (3, 1), padding=(1, 0)), nn.Tanh())
        self.fc = nn.Linear(6, num_classes)

    def features(self, x):
        """(N, M, T, V, C) -> stage-2 map (N, M, C', T, V)."""
        n, m, t, v, c = x.shape
        y = x.permute(0, 1, 4, 2, 3).reshape(n * m, c, t, v)
        y = self.stage2(torch.tanh(self.stage1(y)))
        return y.view(n, m, *y.shape[1:])

    def head(self, feats):
        """(N, M, C', T, V) -> (N, K) logits."""
        return self.fc(feats.mean(dim=(3, 4)).mean(1))


def _fd_grad_cam(net, feats, classes, eps=1e-6):
    """Reference Eq.

    2: central finite differences of y-hat, then Grad-CAM
    and min-max normalisation, one element at a time.
    """
    flat = feats.detach().clone().reshape(-1)
    grads = torch.zeros_like(flat)
    for i in range(flat.numel()):
        plus, minus = flat.clone(), flat.clone()
        plus[i] += eps
        minus[i] -= eps
        p_plus = class_probability(net.head(plus.view_as(feats)), classes)
        p_minus = class_probability(net.head(minus.view_as(feats)), classes)
        grads[i] = (p_plus - p_minus).sum() / (2 * eps)
    grads = grads.view_as(feats)
    n, m = feats.shape[:2]
    cams = torch.zeros(n, m, feats.shape[3], feats.shape[4], dtype=feats.dtype)
    for i in range(n):
        for j in range(m):
            for c in range(feats.shape[2]):
                alpha = grads[i, j, c].mean()
                cams[i, j] += alpha * feats[i, j, c]
    cams = cams.clamp(min=0)
    out = torch.zeros_like(cams)
    for i in range(n):
        low, high = cams[i].min(), cams[i].max()
        out[i] = (cams[i] - low) / (high - low)
    return out


def test_focus_matches_finite_difference_grad_cam():
    torch.manual_seed(0)
    net = TinyNet().double()
    x = torch.randn(3, 2, 5, 4, 3, dtype=torch.float64)
    feats = net.features(x)
    logits = net.head(feats)
    predicted = logits.argmax(1)
    q, = spatio_temporal_focus(class_probability(logits, predicted), [feats])
    reference = _fd_grad_cam(net, feats.detach(), predicted)
    assert q.shape == (3, 2, 5, 4)
    assert torch.allclose(q, reference, atol=1e-6)
    assert q.min() >= 0 and q.max() <= 1
    # Each sample's map spans [0, 1] after min-max normalisation.
    assert torch.allclose(
        q.flatten(1).max(1).values, torch.ones(3, dtype=q.dtype), atol=1e-5)


def test_focus_of_another_class_differs():
    torch.manual_seed(1)
    net = TinyNet()
    feats = net.features(torch.randn(2, 2, 5, 4, 3))
    logits = net.head(feats)
    top2 = logits.topk(2, 1)[1]
    q1, = spatio_temporal_focus(class_probability(logits, top2[:, 0]), [feats])
    q2, = spatio_temporal_focus(class_probability(logits, top2[:, 1]), [feats])
    assert not torch.allclose(q1, q2)


def test_focus_keeps_second_order_graph():
    torch.manual_seed(0)
    net = TinyNet()
    feats = net.features(torch.randn(2, 2, 5, 4, 3))
    logits = net.head(feats)
    q, = spatio_temporal_focus(
        class_probability(logits, logits.argmax(1)), [feats])
    assert q.requires_grad
    q.sum().backward()
    # The head's weights reach Q only through the gradient (second order).
    assert net.fc.weight.grad is not None
    assert net.fc.weight.grad.abs().sum() > 0
    assert net.stage1.weight.grad.abs().sum() > 0


def test_focus_without_graph_is_first_order_only():
    net = TinyNet()
    feats = net.features(torch.randn(2, 2, 5, 4, 3))
    logits = net.head(feats)
    q, = spatio_temporal_focus(
        class_probability(logits, logits.argmax(1)), [feats],
        create_graph=False)
    q.sum().backward()
    # The Grad-CAM weights are constants: nothing reaches the head.
    assert net.fc.weight.grad is None
    assert net.stage1.weight.grad.abs().sum() > 0


def test_min_max_normalize_constant_map_is_zero():
    cam = torch.stack([torch.full((3, 4), 2.), torch.arange(12.).view(3, 4)])
    out = min_max_normalize(cam)
    assert torch.equal(out[0], torch.zeros(3, 4))
    assert out[1].min() == 0 and torch.isclose(out[1].max(), torch.tensor(1.))


def test_resample_time_is_linear_interpolation():
    focus = torch.tensor([0., 1.]).view(1, 1, 2, 1).repeat(1, 1, 1, 3)
    out = resample_time(focus, 4)
    # align_corners=False: samples at -0.25, 0.25, 0.75, 1.25 of the input.
    expected = torch.tensor([0., 0.25, 0.75, 1.])
    assert torch.allclose(out[0, 0, :, 0], expected)
    assert resample_time(focus, 2) is focus


def test_focus_to_input_masks_focused_joints_and_frames():
    inputs = torch.randn(2, 1, 4, 3, 4)  # (N, M, T, V, C), C = xyz + vis
    inputs[..., 3] = 1.
    focus = torch.zeros(2, 1, 2, 3)
    focus[0, 0, 1, 2] = 1.  # sample 0: late frames of joint 2
    mask = focus_to_input(focus, inputs)
    assert mask.shape == (2, 1, 4, 3, 1)
    masked = inputs - mask * inputs
    # The last input frame maps onto the focused frame: fully removed,
    # visibility included.
    assert torch.equal(masked[0, 0, 3, 2], torch.zeros(4))
    assert torch.equal(masked[0, 0, 0, 2], inputs[0, 0, 0, 2])
    assert torch.equal(masked[1], inputs[1])
    assert torch.equal(masked[0, :, :, :2], inputs[0, :, :, :2])


def test_focus_to_input_rejects_mismatched_joints():
    with pytest.raises(ValueError, match='persons and joints'):
        focus_to_input(torch.zeros(2, 1, 2, 5), torch.zeros(2, 1, 4, 3, 3))
