"""SpatioTemporalFocusHead: each STF loss against a naive per-sample
reference, weights, switches, errors and the recognizer integration."""
import pytest
import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmengine.registry import init_default_scope

import mmcsre  # noqa: F401
from mmcsre.models.heads import SpatioTemporalFocusHead
from mmcsre.models.heads.spatio_temporal_focus_head import PAPER_WEIGHTS


@pytest.fixture(autouse=True)
def _scope():
    init_default_scope('mmaction')


class TinyNet(nn.Module):
    """(N, M, T, V, C) -> prev (N, M, 4, T, V) -> last (N, M, 6, T, V) -> (N,
    K); no BatchNorm, so samples are independent."""

    def __init__(self, num_classes=5):
        super().__init__()
        self.stage1 = nn.Conv2d(3, 4, (3, 1), padding=(1, 0))
        self.stage2 = nn.Conv2d(4, 6, (3, 1), padding=(1, 0))
        self.fc = nn.Linear(6, num_classes)

    def stages(self, x):
        n, m, t, v, c = x.shape
        y = x.permute(0, 1, 4, 2, 3).reshape(n * m, c, t, v)
        prev = torch.tanh(self.stage1(y))
        prev = prev.view(n, m, *prev.shape[1:])
        last = torch.tanh(self.stage2(prev.flatten(0, 1)))
        return prev, last.view(n, m, *last.shape[1:])

    def head(self, last):
        return self.fc(last.mean(dim=(3, 4)).mean(1))

    def forward(self, x):
        return self.head(self.stages(x)[1])


def _batch(seed=0, n=4):
    torch.manual_seed(seed)
    net = TinyNet()
    inputs = torch.randn(n, 2, 6, 5, 3)
    prev, last = net.stages(inputs)
    logits = net.head(last)
    return net, inputs, dict(prev=prev, last=last), logits


def _naive_focus(score_fn, feats, n):
    """Per-sample Grad-CAM with its own autograd call and loops."""
    maps = []
    for i in range(n):
        grad, = torch.autograd.grad(
            score_fn(i), feats, create_graph=True, retain_graph=True)
        cam = torch.zeros(feats.shape[1], feats.shape[3], feats.shape[4])
        for m in range(feats.shape[1]):
            for c in range(feats.shape[2]):
                cam[m] = cam[m] + grad[i, m, c].mean() * feats[i, m, c]
        cam = cam.clamp(min=0)
        maps.append((cam - cam.min()) / (cam.max() - cam.min()))
    return maps


def _prob(logits, i, cls):
    return logits.softmax(-1)[i, cls]


def test_divergence_and_coherence_match_naive_reference():
    net, inputs, stages, logits = _batch()
    head = SpatioTemporalFocusHead(losses=('divergence', 'coherence'))
    out = head.loss(None, [], stage_feats=stages, cls_logits=logits)
    top2 = logits.detach().topk(2, 1)[1]
    n = len(logits)
    q1 = _naive_focus(lambda i: _prob(logits, i, top2[i, 0]), stages['last'],
                      n)
    q2 = _naive_focus(lambda i: _prob(logits, i, top2[i, 1]), stages['last'],
                      n)
    q_prev = _naive_focus(lambda i: _prob(logits, i, top2[i, 0]),
                          stages['prev'], n)
    divergence = -sum((a - b).norm() for a, b in zip(q1, q2)) / n
    coherence = sum((a - b).norm() for a, b in zip(q1, q_prev)) / n
    assert torch.allclose(out['loss_divergence'], 0.1 * divergence, atol=1e-5)
    assert torch.allclose(out['loss_coherence'], 0.1 * coherence, atol=1e-5)
    assert set(out) == {'loss_divergence', 'loss_coherence', 'focus_mean'}


def test_exploration_matches_naive_reference_and_trains_through_q():
    net, inputs, stages, logits = _batch(1)
    head = SpatioTemporalFocusHead(losses=('exploration', ))
    out = head.loss(
        None, [],
        stage_feats=stages,
        cls_logits=logits,
        inputs=inputs,
        classify=net)
    predicted = logits.detach().argmax(1)
    q = _naive_focus(lambda i: _prob(logits, i, predicted[i]), stages['last'],
                     len(logits))
    expected = 0.
    for i, focus in enumerate(q):
        masked = inputs[i] * (1 - focus[..., None])
        expected += net(masked[None]).softmax(-1)[0, predicted[i]]
    expected = 0.01 * expected / len(q)
    assert torch.allclose(out['loss_exploration'], expected, atol=1e-6)
    out['loss_exploration'].backward()
    # Second order: the classifier's weights get a gradient through Q too.
    assert net.stage1.weight.grad.abs().sum() > 0


def test_adjacency_regresses_embeddings_on_detached_focus():
    net, inputs, stages, logits = _batch(2)
    # One-channel embeddings at the last stage's rate and at half of it.
    emb_full = torch.rand(4, 2, 1, 6, 5, requires_grad=True)
    emb_half = torch.rand(4, 2, 1, 3, 5, requires_grad=True)
    stages = dict(stages, emb0=emb_full, emb1=emb_half)
    head = SpatioTemporalFocusHead(
        losses=('adjacency', ),
        loss_weights=dict(adjacency=0.5),
        embedding_taps=('emb0', 'emb1'))
    out = head.loss(None, [], stage_feats=stages, cls_logits=logits)
    predicted = logits.detach().argmax(1)
    q = _naive_focus(lambda i: _prob(logits, i, predicted[i]), stages['last'],
                     4)
    q = torch.stack(q).detach()
    half = nn.functional.interpolate(
        q.permute(0, 1, 3, 2).reshape(-1, 1, 6), size=3,
        mode='linear').view(4, 2, 5, 3).permute(0, 1, 3, 2)
    ref = 0.
    for i in range(4):
        ref += (emb_full[i, :, 0] - q[i]).norm() / 4 / 2
        ref += (emb_half[i, :, 0] - half[i]).norm() / 4 / 2
    assert torch.allclose(out['loss_adjacency'], 0.5 * ref, atol=1e-5)
    grads = torch.autograd.grad(
        out['loss_adjacency'], [emb_full, net.fc.weight], allow_unused=True)
    assert grads[0].abs().sum() > 0
    # Q is the target: no gradient flows into the classifier through it.
    assert grads[1] is None


def test_coherence_resamples_strided_stage():
    _, _, stages, logits = _batch(3)
    strided = dict(prev=stages['prev'], last=stages['last'])
    head = SpatioTemporalFocusHead(losses=('coherence', ))
    out_same = head.loss(None, [], stage_feats=strided, cls_logits=logits)
    assert out_same['loss_coherence'] >= 0
    # A stage with half the frames still compares at the finer rate.
    net = TinyNet()
    x = torch.randn(2, 1, 8, 5, 3)
    prev, last = net.stages(x)
    last = last[:, :, :, ::2]
    out = head.loss(
        None, [],
        stage_feats=dict(prev=prev, last=last),
        cls_logits=net.head(last))
    assert out['loss_coherence'].requires_grad


def test_weights_default_to_the_paper_and_scale_each_loss():
    assert PAPER_WEIGHTS == dict(
        exploration=0.01, divergence=0.1, coherence=0.1, adjacency=0.01)
    _, _, stages, logits = _batch(4)
    base = SpatioTemporalFocusHead(losses=('coherence', )).loss(
        None, [], stage_feats=stages, cls_logits=logits)
    doubled = SpatioTemporalFocusHead(
        losses=('coherence', ), loss_weights=dict(coherence=0.2)).loss(
            None, [], stage_feats=stages, cls_logits=logits)
    assert torch.allclose(doubled['loss_coherence'],
                          2 * base['loss_coherence'])


def test_bad_configurations_are_clear_errors():
    with pytest.raises(ValueError, match='unknown STF loss'):
        SpatioTemporalFocusHead(losses=('explore', ))
    with pytest.raises(ValueError, match='unknown STF loss'):
        SpatioTemporalFocusHead(loss_weights=dict(div=1.))
    with pytest.raises(ValueError, match='embedding_taps'):
        SpatioTemporalFocusHead(losses=('adjacency', ))
    with pytest.raises(ValueError, match='at least one'):
        SpatioTemporalFocusHead(losses=())
    _, _, stages, logits = _batch()
    head = SpatioTemporalFocusHead(losses=('coherence', ), coherence_tap='x')
    with pytest.raises(KeyError, match="stage tap 'x'"):
        head.loss(None, [], stage_feats=stages, cls_logits=logits)
    with pytest.raises(ValueError, match='cls_logits'):
        head.loss(None, [], stage_feats=stages)
    explore = SpatioTemporalFocusHead(losses=('exploration', ))
    with pytest.raises(ValueError, match='inputs and classify'):
        explore.loss(None, [], stage_feats=stages, cls_logits=logits)


def _recognizer(losses):
    return MODELS.build(
        dict(
            type='MultiStreamRecognizer',
            backbone=dict(
                type='STGCN',
                graph_cfg=dict(layout='coco', mode='stgcn_spatial'),
                base_channels=8,
                num_stages=3,
                inflate_stages=[3],
                down_stages=[3]),
            cls_head=dict(type='GCNHead', num_classes=4, in_channels=16),
            stage_taps=dict(prev=-2, last=-1),
            aux_heads=dict(
                stf=dict(type='SpatioTemporalFocusHead', losses=losses))))


def _samples(n):
    out = []
    for i in range(n):
        sample = ActionDataSample()
        sample.set_gt_labels(torch.LongTensor([i % 4]))
        out.append(sample)
    return out


@pytest.mark.parametrize('losses', [('divergence', 'coherence'),
                                    ('exploration', )])
def test_recognizer_trains_backbone_through_the_focus(losses):
    torch.manual_seed(0)
    model = _recognizer(losses)
    inputs = torch.randn(3, 1, 2, 8, 17, 3)
    out = model.loss(inputs, _samples(3))
    stf = {k: v for k, v in out.items() if k.startswith('stf.loss_')}
    assert len(stf) == len(losses)
    total = sum(stf.values())
    first = model.backbone.gcn[0].gcn.conv.weight
    grad, = torch.autograd.grad(total, first)
    assert grad.abs().sum() > 0
    assert model.training_only_modules == ('aux_heads', )


def test_stage_taps_leave_the_forward_unchanged():
    torch.manual_seed(0)
    model = _recognizer(('coherence', )).eval()
    inputs = torch.randn(2, 1, 2, 8, 17, 3)
    with torch.no_grad():
        plain, _ = model.extract_feat(inputs)
        tapped, kw = model.extract_feat(inputs, with_taps=True)
    assert torch.equal(plain, tapped)
    assert torch.equal(kw['stage_feats']['last'], tapped)
