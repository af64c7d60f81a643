"""LinearProbeHead: scale-invariant linear classifier for linear eval."""
import torch
from mmaction.registry import MODELS
from mmengine.registry import init_default_scope

import mmcsre  # noqa: F401


def _head(**kwargs):
    init_default_scope('mmaction')
    return MODELS.build(
        dict(type='LinearProbeHead', num_classes=3, in_channels=4, **kwargs))


def test_standardised_features_make_the_probe_scale_invariant():
    torch.manual_seed(0)
    head = _head()
    x = torch.randn(6, 2, 4, 5, 3)
    small = 1e-2 * x + 0.2  # small variation around a common mean
    out = head(x)
    assert out.shape == (6, 3)
    # Affine rescaling of the features does not change the training-mode
    # scores: the BatchNorm removes it.
    torch.testing.assert_close(head(small), out, rtol=0, atol=2e-3)


def test_without_feat_norm_it_is_gcn_head():
    torch.manual_seed(0)
    head = _head(feat_norm=False)
    gcn = MODELS.build(dict(type='GCNHead', num_classes=3, in_channels=4))
    gcn.load_state_dict(head.state_dict())
    x = torch.randn(2, 1, 4, 5, 3)
    torch.testing.assert_close(head(x), gcn(x))


def test_norm_has_no_parameters_but_keeps_running_stats():
    head = _head()
    assert [n for n, _ in head.named_parameters()] == ['fc.weight', 'fc.bias']
    head(torch.randn(4, 1, 4, 5, 3) + 3.0)
    assert head.feat_norm.running_mean.abs().sum() > 0
    assert 'feat_norm.running_mean' in head.state_dict()
