"""Tests of :class:`STFDHead`: GCNHead's classification path plus the
spatial/temporal feature decomposition (csre.txt Eqs 4-5) and the memory bank
contrast (Eqs 6-10)."""
import copy

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.models.heads import GCNHead
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmengine.optim import OptimWrapper
from mmengine.registry import init_default_scope
from torch.nn.modules.lazy import LazyModuleMixin

from mmcsre.models.heads import STFDHead
from mmcsre.models.memory import ContrastiveMemoryBank

N_CLS, C = 6, 32


def make_head(contrast=('spatial', 'temporal'), num_samples=20, **kwargs):
    bank = dict(
        type='ContrastiveMemoryBank',
        num_samples=num_samples,
        num_hard_pos=4,
        num_hard_neg=8,
        num_rand_neg=8)
    kwargs.setdefault('memory_bank', bank)
    return STFDHead(
        num_classes=N_CLS,
        in_channels=C,
        feat_dim=16,
        contrast=contrast,
        **kwargs)


def make_samples(labels, indices=None):
    samples = []
    for i, y in enumerate(labels):
        ds = ActionDataSample()
        # mmaction2 1.1: set_gt_labels; 1.2 renamed it set_gt_label.
        if hasattr(ds, 'set_gt_labels'):
            ds.set_gt_labels(torch.LongTensor([int(y)]))
        else:
            ds.set_gt_label(torch.LongTensor([int(y)]))
        if indices is not None:
            ds.set_metainfo(dict(sample_idx=int(indices[i])))
        samples.append(ds)
    return samples


def has_lazy(module):
    return any(
        isinstance(m, LazyModuleMixin) and m.has_uninitialized_params()
        for m in module.modules())


def linear_in_features(module):
    return sorted(m.in_features for m in module.modules()
                  if isinstance(m, nn.Linear))


# --------------------------------------------------------------------------
# Classification path
# --------------------------------------------------------------------------
def test_classification_equals_gcn_head():
    torch.manual_seed(0)
    gcn = GCNHead(num_classes=N_CLS, in_channels=C)
    head = make_head()
    x = torch.randn(4, 2, C, 7, 25)
    head.init_lazy(x)  # lazy layers first, as MemoryBankInitHook does
    head.init_weights()
    gcn.init_weights()
    head.fc.load_state_dict(gcn.fc.state_dict())
    for module in (gcn, head):
        module.eval()
    assert torch.equal(head(x), gcn(x))

    ref = gcn.predict(x, make_samples([0, 1, 2, 3]))
    out = head.predict(x, make_samples([0, 1, 2, 3], range(4)))
    for a, b in zip(ref, out):
        assert torch.equal(a.pred_scores.item, b.pred_scores.item)
        assert torch.equal(a.pred_labels.item, b.pred_labels.item)
    # Prediction leaves the banks alone.
    assert not any(bank.filled.any() for bank in head.banks.values())

    # In training, loss_cls and the accuracies are GCNHead's too.
    for module in (gcn, head):
        module.train()
    ref = gcn.loss(x, make_samples([0, 1, 2, 3]))
    out = head.loss(x, make_samples([0, 1, 2, 3], range(4)))
    for key, value in ref.items():
        assert torch.equal(out[key], value), key


def test_default_init_only_touches_fc():
    torch.manual_seed(0)
    head = make_head(num_joints=25, num_frames=7)
    before = copy.deepcopy(head.decompose.state_dict())
    head.init_weights()
    assert head.fc.weight.std() < 0.02  # N(0, 0.01)
    for key, value in head.decompose.state_dict().items():
        assert torch.equal(value, before[key]), key


# --------------------------------------------------------------------------
# Decomposition
# --------------------------------------------------------------------------
@pytest.mark.parametrize('T,V', [(13, 20), (16, 25), (7, 17)])
def test_decomposed_shapes_and_invariances(T, V):
    torch.manual_seed(T * V)
    head = make_head(contrast=('spatial', 'temporal', 'global'))
    x = torch.randn(3, 2, C, T, V)
    out = head.decompose_features(x)
    assert set(out) == {'spatial', 'temporal', 'global'}
    for feat in out.values():
        assert feat.shape == (3, 16)
    assert linear_in_features(head.decompose['spatial']) == sorted(
        [C, V * C // 8])
    assert linear_in_features(head.decompose['temporal']) == sorted(
        [C, T * C // 8])

    def close(a, b):
        return torch.allclose(a, b, rtol=1e-4, atol=1e-5)

    frames = head.decompose_features(x[:, :, :, torch.randperm(T)])
    joints = head.decompose_features(x[..., torch.randperm(V)])
    persons = head.decompose_features(x.flip(1))
    # Spatial: temporal pooling -> invariant to the frame order, not to the
    # joint order; temporal the other way round; global to both.
    assert close(frames['spatial'], out['spatial'])
    assert not close(joints['spatial'], out['spatial'])
    assert close(joints['temporal'], out['temporal'])
    assert not close(frames['temporal'], out['temporal'])
    assert close(frames['global'], out['global'])
    assert close(joints['global'], out['global'])
    for name in out:
        assert close(persons[name], out[name])

    # Only the pooled feature matters: any change that keeps the mean over
    # (M, T) keeps the spatial feature (Eq. 4-5 act on X_s only).
    noise = torch.randn(3, 2, C, T, V)
    same_xs = x + noise - noise.mean(dim=(1, 3), keepdim=True)
    assert close(head.decompose_features(same_xs)['spatial'], out['spatial'])
    same_xt = x + noise - noise.mean(dim=(1, 4), keepdim=True)
    assert close(head.decompose_features(same_xt)['temporal'], out['temporal'])


def test_eager_layers_and_size_check():
    head = make_head(num_joints=25, num_frames=10, reduction=8)
    assert not has_lazy(head)
    assert linear_in_features(head.decompose['spatial']) == [C, 25 * 4]
    assert linear_in_features(head.decompose['temporal']) == [C, 10 * 4]
    out = head.decompose_features(torch.randn(2, 1, C, 10, 25))
    assert out['spatial'].shape == out['temporal'].shape == (2, 16)
    with pytest.raises(ValueError, match=r'25.*20'):
        head.decompose_features(torch.randn(2, 1, C, 10, 20))
    with pytest.raises(ValueError, match=r'10.*12'):
        head.decompose_features(torch.randn(2, 1, C, 12, 25))

    head = make_head(num_joints=25, num_frames=10, reduction=4)
    assert linear_in_features(head.decompose['spatial']) == [C, 25 * 8]
    with pytest.raises(ValueError, match='reduction'):
        make_head(reduction=5)


def test_lazy_mode_materialises_on_init_lazy():
    head = make_head()
    assert has_lazy(head)
    x = torch.randn(2, 2, C, 9, 17)
    head.init_lazy(x)
    assert not has_lazy(head)
    assert linear_in_features(head.decompose['spatial']) == [C, 17 * 4]
    assert linear_in_features(head.decompose['temporal']) == [C, 9 * 4]
    assert not any(p.grad is not None for p in head.parameters())
    assert not any(bank.filled.any() for bank in head.banks.values())


# --------------------------------------------------------------------------
# Contrast options and losses
# --------------------------------------------------------------------------
@pytest.mark.parametrize('contrast', [('spatial', ), ('temporal', ),
                                      ('global', ),
                                      ('spatial', 'temporal', 'global')])
def test_contrast_options(contrast):
    head = make_head(contrast=contrast)
    keys = {'global': 'global_'}
    assert set(head.banks) == {keys.get(c, c) for c in contrast}
    assert set(head.decompose) == set(head.banks)
    for bank in head.banks.values():
        assert isinstance(bank, ContrastiveMemoryBank)
        assert bank.feat_dim == 16 and bank.num_samples == 20
    x = torch.randn(4, 1, C, 8, 25)
    losses = head.loss(x, make_samples([0, 1, 0, 1], [0, 1, 2, 3]))
    extra = set(losses) - {'loss_cls', 'top1_acc', 'top5_acc'}
    assert extra == {f'loss_{c}'
                     for c in contrast
                     } | {f'{c}_valid_anchors'
                          for c in contrast}


@pytest.mark.parametrize('contrast', [('spatial', 'spatial'), ('local', ), (),
                                      ('spatial', 'Temporal')])
def test_invalid_contrast(contrast):
    with pytest.raises(ValueError, match='contrast'):
        make_head(contrast=contrast)


def test_loss_writes_banks_and_weights():
    torch.manual_seed(0)
    head = make_head(contrast=('spatial', 'temporal', 'global'))
    x = torch.randn(6, 2, C, 8, 25)
    head.init_lazy(x)
    labels = torch.tensor([0, 1, 2, 0, 1, 2])
    indices = torch.tensor([3, 7, 11, 2, 19, 0])

    # Empty banks: contrastive losses are 0 (in the graph), no anchor.
    losses = head.loss(x, make_samples(labels, indices))
    for name in ('spatial', 'temporal', 'global'):
        assert losses[f'loss_{name}'].item() == 0
        assert losses[f'loss_{name}'].requires_grad
        assert losses[f'{name}_valid_anchors'].item() == 0
    feats = head.decompose_features(x)
    for name, key in (('spatial', 'spatial'), ('temporal', 'temporal'),
                      ('global', 'global_')):
        bank = head.banks[key]
        assert bank.filled.sum() == 6 and bank.filled[indices].all()
        assert torch.equal(bank.labels[indices], labels)
        torch.testing.assert_close(bank.feats[indices],
                                   F.normalize(feats[name].detach(), dim=1))

    # A second batch contrasts against the first; weights scale each loss.
    x2 = torch.randn(6, 2, C, 8, 25)
    samples = make_samples(labels.flip(0), [1, 4, 5, 6, 8, 9])
    weighted = copy.deepcopy(head)
    weighted.loss_weights = dict(spatial=0.5, temporal=2.0, **{'global': 0.})
    built = make_head(
        contrast=('spatial', 'temporal', 'global'),
        loss_weights=dict(spatial=0.5, temporal=2.0))
    assert built.loss_weights == dict(
        spatial=0.5, temporal=2.0, **{'global': 1.0})
    torch.manual_seed(1)
    plain = head.loss(x2, samples)
    torch.manual_seed(1)
    scaled = weighted.loss(x2, samples)
    for name in ('spatial', 'temporal', 'global'):
        assert plain[f'{name}_valid_anchors'].item() == 6
        assert plain[f'loss_{name}'].item() > 0
    torch.testing.assert_close(scaled['loss_spatial'],
                               0.5 * plain['loss_spatial'])
    torch.testing.assert_close(scaled['loss_temporal'],
                               2 * plain['loss_temporal'])
    assert scaled['loss_global'].item() == 0
    torch.testing.assert_close(scaled['loss_cls'], plain['loss_cls'])

    # Gradients of the contrastive loss reach the decomposition layers and
    # the input features.
    x3 = torch.randn(6, 2, C, 8, 25, requires_grad=True)
    losses = head.loss(x3, make_samples(labels, [10, 12, 13, 14, 15, 16]))
    losses['loss_spatial'].backward()
    assert x3.grad.abs().sum() > 0
    assert all(p.grad is not None and p.grad.abs().sum() > 0
               for p in head.decompose['spatial'].parameters())
    assert head.decompose['temporal'].project.weight.grad is None


def test_missing_sample_idx():
    head = make_head()
    x = torch.randn(2, 1, C, 8, 25)
    samples = make_samples([0, 1], [0, 1])
    samples[1] = make_samples([1])[0]
    with pytest.raises(
            KeyError,
            match='sample_idx.*PackActionInputs|'
            'PackActionInputs.*sample_idx'):
        head.loss(x, samples)


def test_state_dict_holds_banks():
    head = make_head(contrast=('spatial', 'temporal', 'global'))
    x = torch.randn(4, 1, C, 8, 25)
    head.init_lazy(x)
    head.loss(x, make_samples([0, 1, 0, 1], [0, 1, 2, 3]))
    state = head.state_dict()
    for key in ('spatial', 'temporal', 'global_'):
        for buf in ('feats', 'labels', 'filled'):
            assert f'banks.{key}.{buf}' in state
    assert state['banks.spatial.feats'].shape == (20, 16)
    assert state['banks.temporal.filled'].sum() == 4

    # A fresh lazy head with unsized banks restores everything.
    fresh = make_head(
        contrast=('spatial', 'temporal', 'global'), num_samples=None)
    fresh.load_state_dict(state)
    assert not has_lazy(fresh)
    for key, value in fresh.state_dict().items():
        assert torch.equal(value, state[key]), key
    fresh.eval()
    head.eval()
    assert torch.equal(fresh(x), head(x))
    torch.testing.assert_close(
        fresh.decompose_features(x)['temporal'],
        head.decompose_features(x)['temporal'])


# --------------------------------------------------------------------------
# Integration with MultiStreamRecognizer + STGCN
# --------------------------------------------------------------------------
def test_recognizer_integration():
    init_default_scope('mmaction')
    torch.manual_seed(0)
    num_samples, batch, T = 12, 4, 12
    model = MODELS.build(
        dict(
            type='MultiStreamRecognizer',
            backbone=dict(
                type='STGCN',
                graph_cfg=dict(layout='nturgb+d', mode='stgcn_spatial'),
                base_channels=16,
                num_stages=4,
                inflate_stages=[3],
                down_stages=[3]),
            cls_head=dict(
                type='STFDHead',
                num_classes=3,
                in_channels=32,
                feat_dim=16,
                memory_bank=dict(
                    type='ContrastiveMemoryBank',
                    num_samples=None,
                    num_hard_pos=4,
                    num_hard_neg=8,
                    num_rand_neg=8))))
    head = model.cls_head
    assert isinstance(head, STFDHead)
    banks = [
        m for m in model.modules() if isinstance(m, ContrastiveMemoryBank)
    ]
    assert len(banks) == 2
    for bank in banks:
        bank.allocate(num_samples)
    inputs = torch.randn(num_samples, 1, 2, T, 25, 3)
    labels = torch.arange(num_samples) % 3
    model.eval()
    with torch.no_grad():
        feats, _ = model.extract_feat(inputs[:1])
    assert feats.shape == (1, 2, 32, T // 2, 25)
    head.init_lazy(feats)  # as MemoryBankInitHook, before init_weights
    assert not has_lazy(model)
    model.init_weights()

    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    before = copy.deepcopy(head.decompose.state_dict())
    model.train()
    history = []
    for step in range(3):
        idx = torch.arange(step * batch, (step + 1) * batch)
        data = dict(
            inputs=list(inputs[idx]),
            data_samples=make_samples(labels[idx], idx))
        log = model.train_step(data, optim)
        history.append(log)
        assert all(torch.isfinite(torch.as_tensor(v)) for v in log.values())
        assert {'loss', 'loss_cls', 'loss_spatial',
                'loss_temporal'} <= set(log)
    assert history[0]['spatial_valid_anchors'] == 0
    assert history[2]['spatial_valid_anchors'] == batch
    assert history[2]['temporal_valid_anchors'] == batch
    assert history[2]['loss_spatial'] > 0
    for bank in banks:
        assert bank.filled.all()
        assert torch.equal(bank.labels, labels)
        torch.testing.assert_close(
            bank.feats.norm(dim=1), torch.ones(num_samples))
    # The decomposition layers only learn from the contrastive losses.
    for key, value in head.decompose.state_dict().items():
        assert not torch.equal(value, before[key]), key

    # Test time: classification only, banks untouched.
    model.eval()
    snapshot = [bank.feats.clone() for bank in banks]
    with torch.no_grad():
        out = model.test_step(
            dict(inputs=list(inputs[:2]), data_samples=make_samples([0, 1])))
    assert len(out) == 2 and out[0].pred_scores.item.shape == (3, )
    for bank, feats in zip(banks, snapshot):
        assert torch.equal(bank.feats, feats)

    # Without sample_idx the recognizer refuses to train.
    model.train()
    with pytest.raises(KeyError, match='sample_idx'):
        model.train_step(
            dict(inputs=list(inputs[:2]), data_samples=make_samples([0, 1])),
            optim)
