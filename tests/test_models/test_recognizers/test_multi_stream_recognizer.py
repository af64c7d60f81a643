"""MultiStreamRecognizer: stage taps, aux heads, sample_idx, test path."""
import copy

import pytest
import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmengine.registry import init_default_scope

import mmcsre  # noqa: F401

BACKBONE = dict(
    type='STGCN',
    graph_cfg=dict(layout='nturgb+d', mode='stgcn_spatial'),
    base_channels=8,
    num_stages=4,
    inflate_stages=[3],
    down_stages=[3],
    num_person=2)
HEAD = dict(type='GCNHead', num_classes=5, in_channels=16)


@MODELS.register_module()
class _RecordingHead(nn.Module):
    """A test-only auxiliary head that records what it is given."""

    requires_sample_idx = True

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.ones(()))
        self.seen = None

    def loss(self,
             feats,
             data_samples,
             stage_feats=None,
             cls_scores=None,
             cls_logits=None,
             inputs=None,
             classify=None):
        self.seen = dict(
            feats=feats,
            stage_feats=stage_feats,
            cls_scores=cls_scores,
            cls_logits=cls_logits,
            inputs=inputs,
            classify=classify)
        return dict(loss_aux=self.w * 0.5)


def _samples(n, with_idx=True):
    out = []
    for i in range(n):
        ds = ActionDataSample()
        ds.set_gt_labels(torch.LongTensor([i % 5]))
        if with_idx:
            ds.set_metainfo(dict(sample_idx=i))
        out.append(ds)
    return out


@pytest.fixture(autouse=True)
def _scope():
    init_default_scope('mmaction')


def _build(**kwargs):
    return MODELS.build(
        dict(
            type='MultiStreamRecognizer',
            backbone=BACKBONE,
            cls_head=HEAD,
            **kwargs))


def test_stage_taps_reach_heads_with_person_axis():
    model = _build(
        stage_taps=dict(first='gcn.0', last='gcn.3'),
        aux_heads=dict(rec=dict(type='_RecordingHead')))
    inputs = torch.randn(3, 1, 2, 12, 25, 3)
    losses = model(inputs, _samples(3), mode='loss')
    assert set(losses) >= {'loss_cls', 'rec.loss_aux'}
    seen = model.aux_heads.rec.seen
    assert seen['feats'].shape == (3, 2, 16, 6, 25)
    assert seen['stage_feats']['first'].shape == (3, 2, 8, 12, 25)
    assert seen['stage_feats']['last'].shape == (3, 2, 16, 6, 25)
    # The last tap is the backbone output itself.
    torch.testing.assert_close(seen['stage_feats']['last'], seen['feats'])
    # Hooks are removed after the pass.
    assert all(not m._forward_hooks for m in model.backbone.modules())


def test_aux_heads_get_the_cls_head_scores_of_the_same_pass():
    torch.manual_seed(0)
    model = MODELS.build(
        dict(
            type='MultiStreamRecognizer',
            backbone=BACKBONE,
            cls_head=dict(HEAD, dropout=0.5),
            aux_heads=dict(rec=dict(type='_RecordingHead'))))
    inputs = torch.randn(4, 1, 2, 8, 25, 3)
    seen_by_loss = []
    loss_by_feat = model.cls_head.loss_by_feat

    def recording_loss_by_feat(cls_scores, data_samples):
        seen_by_loss.append(cls_scores)
        return loss_by_feat(cls_scores, data_samples)

    model.cls_head.loss_by_feat = recording_loss_by_feat
    model(inputs, _samples(4), mode='loss')
    scores = model.aux_heads.rec.seen['cls_scores']
    assert scores.shape == (4, 5) and not scores.requires_grad
    # Exactly the logits the classification loss used (same dropout mask).
    torch.testing.assert_close(
        scores, seen_by_loss[0].detach(), rtol=0, atol=0)
    assert not model.cls_head._forward_hooks
    # The same logits with their graph, for gradient-based heads.
    logits = model.aux_heads.rec.seen['cls_logits']
    assert logits.requires_grad
    torch.testing.assert_close(logits.detach(), scores, rtol=0, atol=0)
    # The backbone's input and a classifier of other inputs.
    seen_inputs = model.aux_heads.rec.seen['inputs']
    assert seen_inputs.shape == (4, 2, 8, 25, 3)
    model.eval()
    with torch.no_grad():
        again = model.aux_heads.rec.seen['classify'](seen_inputs)
        direct = model.cls_head(model.extract_feat(inputs)[0])
    torch.testing.assert_close(again, direct)


def test_unknown_tap_is_a_clear_error():
    with pytest.raises(KeyError, match='gcn.99'):
        _build(stage_taps=dict(x='gcn.99'))


def test_missing_sample_idx_is_a_clear_error():
    model = _build(aux_heads=dict(rec=dict(type='_RecordingHead')))
    with pytest.raises(KeyError, match='sample_idx'):
        model(torch.randn(2, 1, 2, 8, 25, 3), _samples(2, False), 'loss')
    # A plain GCNHead needs no sample_idx.
    _build()(torch.randn(2, 1, 2, 8, 25, 3), _samples(2, False), 'loss')


def test_predict_equals_recognizer_gcn():
    model = _build(
        stage_taps=dict(first='gcn.0'),
        aux_heads=dict(rec=dict(type='_RecordingHead'))).eval()
    stock = MODELS.build(
        dict(type='RecognizerGCN', backbone=BACKBONE, cls_head=HEAD)).eval()
    state = {
        k: v
        for k, v in model.state_dict().items() if not k.startswith('aux')
    }
    stock.load_state_dict(state)
    inputs = torch.randn(2, 1, 2, 8, 25, 3)
    with torch.no_grad():
        ours = model(inputs, copy.deepcopy(_samples(2)), mode='predict')
        theirs = stock(inputs, _samples(2), mode='predict')
    for a, b in zip(ours, theirs):
        torch.testing.assert_close(a.pred_scores.item, b.pred_scores.item)
    assert model.aux_heads.rec.seen is None  # no aux work at test time
    assert model.training_only_modules == ('aux_heads', )


def test_stage_taps_on_aagcn():
    backbone = dict(
        type='AAGCN',
        graph_cfg=dict(layout='nturgb+d', mode='spatial'),
        base_channels=8,
        num_stages=3,
        inflate_stages=[2],
        down_stages=[2],
        num_person=2)
    model = MODELS.build(
        dict(
            type='MultiStreamRecognizer',
            backbone=backbone,
            cls_head=HEAD,
            stage_taps=dict(first='gcn.0', mid='gcn.1'),
            aux_heads=dict(rec=dict(type='_RecordingHead'))))
    model(torch.randn(2, 1, 2, 12, 25, 3), _samples(2), mode='loss')
    seen = model.aux_heads.rec.seen
    assert seen['stage_feats']['first'].shape == (2, 2, 8, 12, 25)
    assert seen['stage_feats']['mid'].shape == (2, 2, 16, 6, 25)
    assert seen['feats'].shape == (2, 2, 16, 6, 25)
