"""NTXentLoss against a per-pair reference (cp-stn.txt Eq.

4-5).
"""
import math

import pytest
import torch

from mmcsre.models.losses import NTXentLoss


def _reference(z_a, z_b, temperature):
    """Eq.

    4 for every ordered positive pair, averaged over the 2N anchors, with
    Python loops.
    """
    z = torch.cat([z_a, z_b]).double()
    n = z_a.shape[0]

    def sim(u, v):
        return float(u @ v / (u.norm() * v.norm()))

    total = 0.0
    for s in range(2 * n):
        t = (s + n) % (2 * n)
        num = math.exp(sim(z[s], z[t]) / temperature)
        den = sum(
            math.exp(sim(z[s], z[k]) / temperature) for k in range(2 * n)
            if k != s)
        total += -math.log(num / den)
    return total / (2 * n)


@pytest.mark.parametrize('temperature', [0.1, 0.5, 1.0])
def test_matches_per_pair_reference(temperature):
    torch.manual_seed(0)
    z_a, z_b = torch.randn(6, 5), torch.randn(6, 5)
    loss = NTXentLoss(temperature=temperature)(z_a, z_b)
    assert loss.item() == pytest.approx(
        _reference(z_a, z_b, temperature), rel=1e-5)


def test_weight_gradient_and_alignment():
    torch.manual_seed(0)
    z_a = torch.randn(8, 4, requires_grad=True)
    z_b = torch.randn(8, 4)
    loss = NTXentLoss(temperature=0.2, loss_weight=2.0)(z_a, z_b)
    assert loss.item() == pytest.approx(
        2 * _reference(z_a.detach(), z_b, 0.2), rel=1e-5)
    loss.backward()
    assert torch.isfinite(z_a.grad).all() and z_a.grad.abs().sum() > 0
    # Identical views are closer than unrelated ones.
    aligned = NTXentLoss()(z_b, z_b * 3)
    assert aligned < NTXentLoss()(z_a.detach(), z_b)


def test_rejects_bad_inputs():
    with pytest.raises(ValueError):
        NTXentLoss()(torch.randn(4, 3), torch.randn(5, 3))
    with pytest.raises(ValueError):
        NTXentLoss(temperature=0)
