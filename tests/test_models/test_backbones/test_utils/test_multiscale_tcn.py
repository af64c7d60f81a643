import math

import pytest
import torch
import torch.nn.functional as F

from mmcsre.models.backbones import CTRGCN, BlockGCN, Hyperformer, InfoGCN
from mmcsre.models.backbones.utils import MultiScaleTCN, TemporalUnit

GRAPH = dict(layout='coco', mode='spatial')


def _randomise_bn(module):
    """Non-trivial BN statistics and affine parameters (eval mode)."""
    g = torch.Generator().manual_seed(3)
    for m in module.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            c = m.num_features
            m.running_mean.copy_(torch.randn(c, generator=g))
            m.running_var.copy_(torch.rand(c, generator=g) + 0.5)
            m.weight.data.copy_(torch.randn(c, generator=g))
            m.bias.data.copy_(torch.randn(c, generator=g))
    return module.eval()


def _bn(x, bn):
    return F.batch_norm(x, bn.running_mean, bn.running_var, bn.weight, bn.bias)


@pytest.mark.parametrize('stride', [1, 2, 3])
@pytest.mark.parametrize('dilations', [(1, 2), (1, 2, 3, 4)])
@pytest.mark.parametrize('T', [7, 16])
def test_branch_widths_and_output_length(stride, dilations, T):
    nb = len(dilations) + 2
    tcn = MultiScaleTCN(
        6, 4 * nb, kernel_size=3, stride=stride, dilations=dilations)
    assert len(tcn.branches) == nb
    assert all(b[0].out_channels == 4 for b in tcn.branches)
    y = tcn(torch.randn(2, 6, T, 5))
    assert y.shape == (2, 4 * nb, math.ceil(T / stride), 5)


def test_matches_the_branch_formulas():
    tcn = _randomise_bn(
        MultiScaleTCN(8, 16, kernel_size=5, stride=2, dilations=(1, 3)))
    x = torch.randn(2, 8, 13, 3)

    def bottleneck(branch):
        return F.relu(_bn(branch[0](x), branch[1]))

    outs = []
    for branch, d in zip(tcn.branches[:2], (1, 3)):
        conv = branch[3]
        z = F.conv2d(
            bottleneck(branch),
            conv.weight,
            conv.bias,
            stride=(2, 1),
            padding=(2 * d, 0),
            dilation=(d, 1))
        outs.append(_bn(z, branch[4]))
    pool = tcn.branches[2]
    z = F.max_pool2d(bottleneck(pool), (3, 1), (2, 1), (1, 0))
    outs.append(_bn(z, pool[4]))
    last = tcn.branches[3]
    outs.append(
        _bn(F.conv2d(x, last[0].weight, last[0].bias, (2, 1)), last[1]))
    with torch.no_grad():
        torch.testing.assert_close(tcn(x), torch.cat(outs, 1))


@pytest.mark.parametrize('d', [1, 2, 3])
def test_dilated_branch_receptive_field(d):
    """An impulse at frame t reaches frames t +- d * (kernel_size - 1) / 2
    of a dilated branch, not further."""
    tcn = MultiScaleTCN(1, 3, kernel_size=5, dilations=(d, ))
    branch = tcn.branches[0].eval()
    # A positive bottleneck so the impulse passes its ReLU.
    branch[0].weight.data.fill_(1.0)
    branch[0].bias.data.zero_()
    x = torch.zeros(1, 1, 31, 1)
    with torch.no_grad():
        base = branch(x)
        x[0, 0, 15] = 1.0
        changed = (branch(x) - base).abs().sum(dim=(0, 1, 3)) > 0
    frames = changed.nonzero().flatten().tolist()
    assert frames == [15 + k * d for k in range(-2, 3)]


def test_temporal_unit_only_renames_the_state_dict():
    torch.manual_seed(0)
    flat = MultiScaleTCN(4, 8, stride=2)
    torch.manual_seed(0)
    unit = MultiScaleTCN(4, 8, stride=2, temporal_unit=True)
    assert isinstance(unit.branches[0][3], TemporalUnit)
    flat_sd, unit_sd = flat.state_dict(), unit.state_dict()
    renamed = {
        k.replace('.3.conv.', '.3.').replace('.3.bn.', '.4.'): v
        for k, v in unit_sd.items()
    }
    assert 'branches.0.3.conv.weight' in unit_sd
    assert 'branches.0.4.weight' in flat_sd
    # Same draws in the same order: the seeded weights are equal.
    assert renamed.keys() == flat_sd.keys()
    assert all(torch.equal(renamed[k], flat_sd[k]) for k in flat_sd)
    x = torch.randn(2, 4, 9, 3)
    with torch.no_grad():
        torch.testing.assert_close(
            _randomise_bn(flat)(x),
            _randomise_bn(unit)(x))


def test_out_relu():
    torch.manual_seed(0)
    plain = _randomise_bn(MultiScaleTCN(4, 8))
    relu = MultiScaleTCN(4, 8, out_relu=True).eval()
    relu.load_state_dict(plain.state_dict())
    x = torch.randn(2, 4, 9, 3)
    with torch.no_grad():
        y = plain(x)
        assert (y < 0).any()
        torch.testing.assert_close(relu(x), y.clamp_min(0))


def test_init_weights():
    torch.manual_seed(0)
    tcn = MultiScaleTCN(4, 16, temporal_unit=True)
    tcn.init_weights()
    bns = [m for m in tcn.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    convs = [m for m in tcn.modules() if isinstance(m, torch.nn.Conv2d)]
    assert len(bns) == 7 and len(convs) == 6
    for bn in bns:
        assert not torch.equal(bn.weight, torch.ones_like(bn.weight))
        assert (bn.weight - 1).abs().max() < 0.2
        assert not bn.bias.any()
    for conv in convs:
        assert not conv.bias.any()
    # init_cfg=None leaves PyTorch's defaults (InfoGCN, BlockGCN).
    kept = MultiScaleTCN(4, 16, init_cfg=None)
    kept.init_weights()
    assert all(
        torch.equal(m.weight, torch.ones_like(m.weight))
        for m in kept.modules() if isinstance(m, torch.nn.BatchNorm2d))


def test_channels_must_split_evenly():
    with pytest.raises(ValueError, match='multiple of the 5 branches'):
        MultiScaleTCN(4, 16, dilations=(1, 2, 3))


@pytest.mark.parametrize(
    'model, tcn, relu, unit',
    [(lambda: CTRGCN(GRAPH, num_person=1, base_channels=8, num_stages=1),
      'gcn.0.tcn', False, False),
     (lambda: InfoGCN(GRAPH, num_person=1, base_channels=8, num_stages=1),
      'gcn.0.tcn', True, False),
     (lambda: BlockGCN(
         GRAPH,
         num_person=1,
         base_channels=8,
         num_stages=1,
         num_groups=4,
         num_elements=4), 'layers.0.tcn', False, False),
     (lambda: Hyperformer(
         GRAPH, num_person=1, embed_dims=12, num_heads=2, num_layers=1),
      'layers.0.tcn', False, True)],
    ids=['ctrgcn', 'infogcn', 'blockgcn', 'hyperformer'])
def test_backbones_share_it_with_their_checkpoint_keys(model, tcn, relu, unit):
    backbone = model()
    module = dict(backbone.named_modules())[tcn]
    assert type(module) is MultiScaleTCN
    assert isinstance(module.relu, torch.nn.ReLU) == relu
    # The keys the backbones' checkpoints have always had.
    conv = 'branches.0.3.conv.weight' if unit else 'branches.0.3.weight'
    bn = 'branches.0.3.bn.weight' if unit else 'branches.0.4.weight'
    keys = backbone.state_dict().keys()
    assert {
        f'{tcn}.{conv}', f'{tcn}.{bn}', f'{tcn}.branches.2.4.weight',
        f'{tcn}.branches.3.1.running_var'
    } <= keys
