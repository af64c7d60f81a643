"""FRHead: prototypes, TP/FN/FP, the calibrated loss, buffers, recognizer."""
import os.path as osp

import pytest
import torch
import torch.multiprocessing as mp
import torch.nn.functional as F
from helpers import REPO_ROOT
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmengine.config import Config
from mmengine.dist import all_reduce_params
from mmengine.registry import init_default_scope

import mmcsre  # noqa: F401
from mmcsre.models.heads import ClassPrototypes
from mmcsre.models.heads.fr_head import (calibrated_contrastive_loss,
                                         split_by_outcome)
from mmcsre.utils import NonFiniteStateError

# Hand-built batch, K = 4: (label, predicted) per sample.
LABELS = torch.tensor([0, 0, 1, 1, 2, 3])
PREDS = torch.tensor([0, 1, 1, 2, 2, 0])


def _scores(preds, num_classes=4, seed=0):
    """Logits whose arg-max is ``preds``, with varied confidences."""
    g = torch.Generator().manual_seed(seed)
    scores = torch.randn(len(preds), num_classes, generator=g)
    scores[torch.arange(len(preds)), preds] += 3.0
    return scores


def _samples(labels):
    out = []
    for label in labels.tolist():
        ds = ActionDataSample()
        ds.set_gt_labels(torch.LongTensor([label]))
        out.append(ds)
    return out


@pytest.fixture(autouse=True)
def _scope():
    init_default_scope('mmaction')


def test_tp_fn_fp_on_a_hand_built_batch():
    tp, fn, fp = split_by_outcome(LABELS, _scores(PREDS), 4)
    assert tp.nonzero().tolist() == [[0, 0], [2, 1], [4, 2]]
    assert fn.nonzero().tolist() == [[1, 0], [3, 1], [5, 3]]
    assert fp.nonzero().tolist() == [[1, 1], [3, 2], [5, 0]]


def test_prototype_ema_from_true_positives_only():
    bank = ClassPrototypes(num_banks=2, num_classes=3, feat_dim=2)
    feats = torch.tensor([[[1., 0.], [3., 2.], [5., 5.]]]).repeat(2, 1, 1)
    feats[1] *= -1
    # Samples 0 and 1 are TPs of class 0, sample 2 is no TP.
    tp = torch.tensor([[1., 0, 0], [1, 0, 0], [0, 0, 0]])
    bank.update(feats.requires_grad_(), tp)
    # First update: the mean of the class's TPs (no random start).
    torch.testing.assert_close(bank.vectors[:, 0],
                               torch.tensor([[2., 1.], [-2., -1.]]))
    assert bank.initialized.tolist() == [[True, False, False]] * 2
    assert not bank.vectors[:, 1:].any()
    # Second update: class 0 by EMA (alpha 0.9), class 2 set, 1 untouched.
    new = torch.tensor([[[12., 11.], [7., 7.]]]).repeat(2, 1, 1)
    bank.update(new, torch.tensor([[1., 0, 0], [0, 0, 1]]))
    torch.testing.assert_close(
        bank.vectors[0, 0],
        0.9 * torch.tensor([2., 1.]) + 0.1 * torch.tensor([12., 11.]))
    torch.testing.assert_close(bank.vectors[0, 2], torch.tensor([7., 7.]))
    assert not bank.vectors[:, 1].any()
    assert bank.initialized.tolist() == [[True, False, True]] * 2
    # Statistics, not part of any autograd graph.
    assert bank.vectors.grad_fn is None and not bank.vectors.requires_grad


def _naive_loss(feats, protos, ready, labels, scores, tau, calibrate_all):
    """fr-head.md Eqs 4-8 anchor by anchor (S, N loops)."""

    def cos(u, v):
        return (u @ v) / (u.norm() * v.norm())

    preds = scores.argmax(1)
    probs = scores.softmax(1)
    out = []
    for s in range(feats.shape[0]):
        terms = []
        for i, k in enumerate(labels.tolist()):
            if not ready[s, k]:
                continue
            f = feats[s, i]
            is_tp = bool(preds[i] == k)
            fn = [j for j in range(len(labels)) if labels[j] == k != preds[j]]
            fp = [j for j in range(len(labels)) if preds[j] == k != labels[j]]
            calibrate = is_tp or calibrate_all
            phi = 1 - cos(f, feats[s, fn].mean(0)) if calibrate and fn else 0
            psi = 1 + cos(f, feats[s, fp].mean(0)) if calibrate and fp else 0
            w = 1 - probs[i, k]
            pos = cos(f, protos[s, k]) / tau
            neg = sum(
                torch.exp(cos(f, protos[s, m]) / tau)
                for m in range(protos.shape[1]) if m != k and ready[s, m])
            for shift in (psi, phi):
                num = torch.exp(pos - w * shift)
                terms.append(-torch.log(num / (num + neg)))
        # Two terms (psi, phi) per anchor: the mean over anchors.
        out.append(sum(terms) / (len(terms) / 2))
    return torch.stack(out)


@pytest.mark.parametrize('calibrate_all', [False, True])
def test_loss_matches_a_naive_reference_with_gradients(calibrate_all):
    torch.manual_seed(0)
    feats = torch.randn(2, 6, 5, dtype=torch.float64)
    protos = torch.randn(2, 4, 5, dtype=torch.float64)
    # Class 3's prototype is missing in feature 1: its anchor (sample 5)
    # and its logit drop out there.
    ready = torch.ones(2, 4, dtype=torch.bool)
    ready[1, 3] = False
    scores = _scores(PREDS).double()
    ours_in = feats.clone().requires_grad_()
    ref_in = feats.clone().requires_grad_()
    ours = calibrated_contrastive_loss(ours_in, protos, ready, LABELS, scores,
                                       0.125, calibrate_all)
    ref = _naive_loss(ref_in, protos, ready, LABELS, scores, 0.125,
                      calibrate_all)
    torch.testing.assert_close(ours, ref)
    ours.sum().backward()
    ref.sum().backward()
    torch.testing.assert_close(ours_in.grad, ref_in.grad)
    # mu_FN / mu_FP are differentiable: sample 5 (class 3, predicted 0)
    # is no anchor in feature 1 (no class-3 prototype) but, as class 0's
    # FP, it still gets a gradient through psi of the TP anchor 0.
    assert ours_in.grad[1, 5].abs().sum() > 0


def test_calibration_terms_change_the_loss_only_for_tp_anchors():
    torch.manual_seed(1)
    feats = torch.randn(1, 6, 5)
    protos = torch.randn(1, 4, 5)
    ready = torch.ones(1, 4, dtype=torch.bool)
    scores = _scores(PREDS)
    all_tp = _scores(LABELS)  # every sample right: no FN/FP at all
    plain = calibrated_contrastive_loss(feats, protos, ready, LABELS, all_tp,
                                        0.125)
    # Without FN/FP the loss is the plain prototype InfoNCE, anchor-mean.
    logits = F.normalize(feats[0], dim=1) @ F.normalize(protos[0], dim=1).T
    expected = 2 * F.cross_entropy(logits / 0.125, LABELS)
    torch.testing.assert_close(plain[0], expected)
    calibrated = calibrated_contrastive_loss(feats, protos, ready, LABELS,
                                             scores, 0.125)
    assert not torch.allclose(calibrated, plain)


def _stage_feats(n=6, num_joints=7):
    torch.manual_seed(0)
    return dict(
        first=torch.randn(n, 2, 8, 12, num_joints),
        last=torch.randn(n, 2, 16, 6, num_joints))


def _head(**kwargs):
    cfg = dict(
        type='FRHead',
        num_classes=4,
        num_joints=7,
        stages=[
            dict(tap='first', in_channels=8, num_frames=12, weight=0.1),
            dict(tap='last', in_channels=16, num_frames=6)
        ],
        feat_dim=32)
    cfg.update(kwargs)
    return MODELS.build(cfg)


def test_head_losses_are_weighted_per_stage():
    head = _head(loss_weight=0.1)
    feats = _stage_feats()
    scores = _scores(PREDS)
    losses = head.loss(None, _samples(LABELS), feats, cls_scores=scores)
    assert set(losses) == {'loss_first', 'loss_last'}
    # Recompute from the refined features and the updated prototypes.
    refined = head.refine_features(feats)
    per = calibrated_contrastive_loss(refined, head.prototypes.vectors,
                                      head.prototypes.initialized, LABELS,
                                      scores, 0.125).view(2, 2).sum(1)
    torch.testing.assert_close(losses['loss_first'], 0.1 * 0.1 * per[0])
    torch.testing.assert_close(losses['loss_last'], 0.1 * 1.0 * per[1])
    assert torch.isfinite(losses['loss_last']) and losses['loss_last'] > 0
    # The prototypes of classes 0, 1, 2 (those with TPs) exist.
    assert head.prototypes.initialized.tolist() == [[True, True, True, False]
                                                    ] * 4
    sum(losses.values()).backward()
    assert head.refine.first.spatial.project.weight.grad.abs().sum() > 0


def test_paper_defaults_and_parameter_count():
    """fr-head.md Section 4.2 and Table 1 (CTR-GCN, NTU120: +0.53M)."""
    head = MODELS.build(
        dict(type='FRHead', num_classes=120, num_joints=25, clip_len=64))
    assert [(s['tap'], s['in_channels'], s['num_frames'], s['weight'])
            for s in head.stages] == [('stage1', 64, 64, 0.1),
                                      ('stage5', 128, 32, 0.2),
                                      ('stage8', 256, 16, 0.5),
                                      ('stage10', 256, 16, 1.0)]
    assert (head.loss_weight, head.prototypes.momentum, head.temperature,
            head.branches) == (0.1, 0.9, 0.125, ('spatial', 'temporal'))
    assert head.prototypes.vectors.shape == (8, 120, 256)
    params = sum(p.numel() for p in head.parameters())
    assert round(params / 1e6, 2) == 0.54
    # Table 1 "+ CL Loss": the last layer, no decoupling: +0.07M.
    cl_only = MODELS.build(
        dict(
            type='FRHead',
            num_classes=120,
            num_joints=25,
            stages=[dict(tap='stage10', in_channels=256)],
            branches=('global', )))
    assert round(sum(p.numel() for p in cl_only.parameters()) / 1e6, 2) == 0.07


def test_ctrgcn_frhead_config_has_the_papers_parameter_count():
    """fr-head.md Tables 1 and 3: CTR-GCN 1.46M, + FR Head 1.99M."""
    cfg = Config.fromfile(
        osp.join(REPO_ROOT, 'configs', 'frhead',
                 'ctrgcn-frhead_1xb64-joint-65e_ntu120-xsub-keypoint-3d.py'))
    model = MODELS.build(cfg.model)
    total = sum(p.numel() for p in model.parameters())
    head = sum(p.numel() for p in model.aux_heads.parameters())
    # Truncated to 10k, as the paper reports 1,999,048 as 1.99M.
    assert (total // 10_000, (total - head) // 10_000) == (199, 146)


def test_prototypes_are_buffers_saved_and_restored():
    head = _head()
    head.loss(
        None, _samples(LABELS), _stage_feats(), cls_scores=_scores(PREDS))
    state = head.state_dict()
    assert {'prototypes.vectors', 'prototypes.initialized'} <= set(state)
    assert state['prototypes.initialized'].any()
    fresh = _head()
    assert not fresh.prototypes.initialized.any()
    fresh.load_state_dict(state)
    torch.testing.assert_close(
        fresh.prototypes.vectors, head.prototypes.vectors, rtol=0, atol=0)
    assert torch.equal(fresh.prototypes.initialized,
                       head.prototypes.initialized)


@pytest.mark.parametrize('bad', [float('nan'), float('inf')])
def test_prototypes_refuse_non_finite_updates_unchanged(bad):
    head = _head()
    head.loss(
        None, _samples(LABELS), _stage_feats(), cls_scores=_scores(PREDS))
    vectors = head.prototypes.vectors.clone()
    initialized = head.prototypes.initialized.clone()
    feats = _stage_feats()
    tap = sorted(feats)[0]
    feats[tap][2] = bad  # one sample: every class mean it enters
    with pytest.raises(
            NonFiniteStateError,
            match=r'ClassPrototypes refused to write \d+ of \d+ \(feature, '
            r'class\) prototype rows') as info:
        head.loss(None, _samples(LABELS), feats, cls_scores=_scores(PREDS))
    assert info.value.module is head.prototypes and info.value.num_rows > 0
    assert torch.equal(head.prototypes.vectors, vectors)
    assert torch.equal(head.prototypes.initialized, initialized)


def test_prototypes_refuse_non_finite_checkpoints():
    bank = ClassPrototypes(num_banks=2, num_classes=3, feat_dim=2)
    state = bank.state_dict()
    state['vectors'][1, 2, 0] = float('inf')
    with pytest.raises(NonFiniteStateError, match='1 of 6 checkpoint'):
        ClassPrototypes(
            num_banks=2, num_classes=3, feat_dim=2).load_state_dict(state)


def test_no_graph_kept_across_iterations():
    head = _head()
    feats = {k: v.requires_grad_() for k, v in _stage_feats().items()}
    for _ in range(2):
        losses = head.loss(
            None, _samples(LABELS), feats, cls_scores=_scores(PREDS))
        sum(losses.values()).backward()  # a second backward would fail
        for buf in head.prototypes.buffers():
            assert buf.grad_fn is None and not buf.requires_grad


def test_clear_errors():
    head = _head()
    with pytest.raises(KeyError, match='last'):
        head.loss(
            None,
            _samples(LABELS),
            dict(first=_stage_feats()['first']),
            cls_scores=_scores(PREDS))
    with pytest.raises(ValueError, match='cls_scores'):
        head.loss(None, _samples(LABELS), _stage_feats())
    with pytest.raises(ValueError, match='num_classes'):
        head.loss(
            None,
            _samples(LABELS),
            _stage_feats(),
            cls_scores=_scores(PREDS, 5))
    with pytest.raises(ValueError, match='num_frames'):
        _head(stages=[dict(tap='last', in_channels=16)])
    with pytest.raises(ValueError, match='branches'):
        _head(branches=('spatial', 'bogus'))
    with pytest.raises(ValueError, match='positions'):
        head.loss(
            None,
            _samples(LABELS),
            _stage_feats(num_joints=5),
            cls_scores=_scores(PREDS))


BACKBONE = dict(
    type='STGCN',
    graph_cfg=dict(layout='nturgb+d', mode='stgcn_spatial'),
    base_channels=8,
    num_stages=4,
    inflate_stages=[3],
    down_stages=[3],
    num_person=1)
FRHEAD = dict(
    type='FRHead',
    num_classes=4,
    num_joints=25,
    stages=[
        dict(tap='first', in_channels=8, num_frames=12, weight=0.1),
        dict(tap='last', in_channels=16, num_frames=6)
    ])


@pytest.mark.parametrize(
    'cls_head', [
        dict(type='GCNHead', num_classes=4, in_channels=16),
        dict(
            type='STFDHead',
            num_classes=4,
            in_channels=16,
            num_joints=25,
            num_frames=6,
            memory_bank=dict(type='ContrastiveMemoryBank', num_samples=6))
    ],
    ids=['gcn', 'csre'])
def test_in_multi_stream_recognizer(cls_head):
    model = MODELS.build(
        dict(
            type='MultiStreamRecognizer',
            backbone=BACKBONE,
            cls_head=cls_head,
            stage_taps=dict(first='gcn.0', last='gcn.3'),
            aux_heads=dict(frhead=FRHEAD)))
    model.init_weights()
    samples = _samples(LABELS)
    for i, s in enumerate(samples):
        s.set_metainfo(dict(sample_idx=i))
    losses = model(torch.randn(6, 1, 1, 12, 25, 3), samples, mode='loss')
    assert {'loss_cls', 'frhead.loss_first', 'frhead.loss_last'} <= set(losses)
    if cls_head['type'] == 'STFDHead':
        assert {'loss_spatial', 'loss_temporal'} <= set(losses)
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    # The whole head is training-only (tools/strip_checkpoint.py drops it).
    assert model.training_only_modules == ('aux_heads', )
    assert 'aux_heads.frhead.prototypes.vectors' in model.state_dict()


def _dist_worker(rank, world, init_file, feats, tp, out_dir):
    torch.set_num_threads(1)
    torch.distributed.init_process_group(
        'gloo', init_method=f'file://{init_file}', rank=rank, world_size=world)
    try:
        bank = ClassPrototypes(num_banks=2, num_classes=4, feat_dim=3)
        half = len(tp) // 2
        rows = slice(rank * half, (rank + 1) * half)
        bank.update(feats[:, rows], tp[rows])
        bank.update(feats[:, rows] * 2, tp[rows])
        # What mmengine's SyncBuffersHook does at the end of each epoch.
        all_reduce_params(bank.buffers(), op='mean')
        torch.save(bank.state_dict(), osp.join(out_dir, f'{rank}.pth'))
    finally:
        torch.distributed.destroy_process_group()


def test_ema_is_all_reduced_across_ranks(tmp_path):
    torch.manual_seed(0)
    feats = torch.randn(2, 8, 3)
    # Class 0: TPs on both ranks, 1: rank 0 only, 2: rank 1 only, 3: none.
    tp = F.one_hot(torch.tensor([0, 1, 1, 0, 0, 2, 2, 0]), 4).float()
    tp[3] = 0
    mp.start_processes(
        _dist_worker,
        args=(2, str(tmp_path / 'init'), feats, tp, str(tmp_path)),
        nprocs=2,
        start_method='fork')
    single = ClassPrototypes(num_banks=2, num_classes=4, feat_dim=3)
    single.update(feats, tp)  # the global batch in one process
    single.update(feats * 2, tp)
    for rank in range(2):
        state = torch.load(tmp_path / f'{rank}.pth', weights_only=True)
        torch.testing.assert_close(state['vectors'], single.vectors)
        assert torch.equal(state['initialized'], single.initialized)
    assert single.initialized.tolist() == [[True, True, True, False]] * 2
