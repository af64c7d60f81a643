"""CTRGCN backbone: layouts, clip lengths, stages, the CTR-GC formula,
parameter count and FLOPs against the paper, configs, CSRE training and the
tools end to end."""
import glob
import os.path as osp
import pickle
import re

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from helpers import REPO_ROOT, run_tool
from mmaction.models.heads import GCNHead
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmengine.analysis import FlopAnalyzer
from mmengine.config import Config
from mmengine.registry import init_default_scope

import mmcsre  # noqa: F401
from mmcsre.models.backbones import CTRGCN
from mmcsre.models.memory import ContrastiveMemoryBank

NWUCLA = dict(
    num_node=20,
    inward=[(0, 1), (1, 2), (3, 2), (4, 2), (5, 4), (6, 5), (7, 6), (8, 2),
            (9, 8), (10, 9), (11, 10), (12, 0), (13, 12), (14, 13), (15, 14),
            (16, 0), (17, 16), (18, 17), (19, 18)],
    center=2)
CUSTOM = dict(num_node=5, inward=[(1, 0), (2, 1), (3, 0), (4, 3)], center=0)
# (layout, num_person, V)
LAYOUTS = [('nturgb+d', 2, 25), (NWUCLA, 1, 20), ('coco', 1, 17),
           ('openpose', 1, 18), (CUSTOM, 1, 5)]
LAYOUT_IDS = ['ntu', 'nwucla', 'coco', 'openpose', 'custom5']
NTU = dict(layout='nturgb+d', mode='spatial')
# Narrow and shallow: 8-8-16-16 channels, stride 2 at units 3 and 4.
TINY = dict(
    base_channels=8, num_stages=4, inflate_stages=[3], down_stages=[3, 4])

# The joint-stream configs of this task (stream variants inherit them).
CONFIGS = sorted(
    p for p in glob.glob(
        osp.join(REPO_ROOT, 'configs', '**', '*ctrgcn*.py'), recursive=True)
    if re.search(r'-joint-\d+e_', osp.basename(p)))
DEMO = osp.join(REPO_ROOT, 'configs', 'demo',
                'ctrgcn-tiny-csre_1xb16-joint-1e_synthetic.py')


@pytest.fixture(autouse=True)
def _scope():
    init_default_scope('mmaction')


def _samples(labels):
    samples = []
    for i, y in enumerate(labels):
        ds = ActionDataSample()
        ds.set_gt_labels(torch.LongTensor([y]))
        ds.set_metainfo(dict(sample_idx=i))
        samples.append(ds)
    return samples


def _ceil_half(t):
    return (t + 1) // 2


@pytest.mark.parametrize('T', [16, 23])
@pytest.mark.parametrize('layout,M,V', LAYOUTS, ids=LAYOUT_IDS)
def test_forward_backward_every_layout(layout, M, V, T):
    torch.manual_seed(0)
    model = CTRGCN(
        graph_cfg=dict(layout=layout, mode='spatial'), num_person=M, **TINY)
    x = torch.randn(2, M, T, V, 3, requires_grad=True)
    out = model(x)
    assert out.shape == (2, M, 16, _ceil_half(_ceil_half(T)), V)
    out.square().mean().backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    for name, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
    # alpha starts at 0, so only the refinement's scale gets a gradient.
    assert model.gcn[1].gcn.alpha.grad.abs() > 0


def test_official_initialisation():
    torch.manual_seed(0)
    model = CTRGCN(graph_cfg=NTU, **TINY)
    model.init_weights()
    for block in model.gcn:
        gc = block.gcn
        # The CTR-GC output BN starts at 1e-6 (each unit starts near its
        # residual path) and alpha at 0 (the topology starts as the graph).
        assert torch.all(gc.bn.weight == 1e-6)
        assert gc.alpha.item() == 0
        torch.testing.assert_close(
            gc.A.data, torch.as_tensor(model.graph.A, dtype=torch.float32))
        tcn_bn = torch.cat([
            m.weight for m in block.tcn.modules()
            if isinstance(m, nn.BatchNorm2d)
        ])
        assert (tcn_bn - 1).abs().max() < 0.15 and tcn_bn.std() > 0
        conv = gc.conv_value
        assert torch.all(conv.bias == 0)
        # Kaiming normal, fan_out: std sqrt(2 / out_channels).
        expected = (2 / conv.out_channels)**0.5
        assert abs(conv.weight.std().item() / expected - 1) < 0.3
    assert torch.all(model.gcn[0].gcn.down[1].weight == 1)


def test_stage_names_follow_the_paper_schedule():
    model = CTRGCN(graph_cfg=NTU).eval()
    assert model.stage_names == tuple(f'gcn.{i}' for i in range(10))
    modules = dict(model.named_modules())
    shapes = {}
    for name in model.stage_names:
        modules[name].register_forward_hook(
            lambda m, i, o, name=name: shapes.__setitem__(name, o.shape))
    N, M, T, V = 1, 2, 21, 25
    with torch.no_grad():
        out = model(torch.randn(N, M, T, V, 3))
    # 64 x 4, 128 x 3 (stride 2 at unit 5), 256 x 3 (stride 2 at unit 8).
    channels = [64] * 4 + [128] * 3 + [256] * 3
    frames = [21] * 4 + [11] * 3 + [6] * 3
    assert [shapes[n] for n in model.stage_names
            ] == [(N * M, c, t, V) for c, t in zip(channels, frames)]
    assert out.shape == (N, M, 256, 6, V)


def test_stage_taps_through_multi_stream_recognizer():
    model = MODELS.build(
        dict(
            type='MultiStreamRecognizer',
            backbone=dict(type='CTRGCN', graph_cfg=NTU, **TINY),
            cls_head=dict(type='GCNHead', num_classes=5, in_channels=16),
            stage_taps=dict(first=0, third='gcn.2', last=-1)))
    feats, kw = model.extract_feat(
        torch.randn(3, 1, 2, 12, 25, 3), with_taps=True)
    taps = kw['stage_feats']
    assert taps['first'].shape == (3, 2, 8, 12, 25)
    assert taps['third'].shape == (3, 2, 16, 6, 25)
    assert taps['last'].shape == feats.shape == (3, 2, 16, 3, 25)
    torch.testing.assert_close(taps['last'], feats)


def _reference_ctrgc(gc, x):
    """CTR-GC subset by subset, as the paper writes it.

    Per subset s: M_s = tanh(phi(x) - psi(x)) (time-pooled), refined
    topology A_s + alpha * xi(M_s), Z = sum_s A_s^c x3_s^c per channel c;
    then BN, residual and ReLU.
    """
    S, C = gc.num_subsets, gc.out_channels
    R = gc.conv_rel.out_channels // (2 * S)

    def conv(layer, rows, inp):
        return F.conv2d(inp, layer.weight[rows], layer.bias[rows])

    y = 0
    for s in range(S):
        r, c = slice(s * R, (s + 1) * R), slice(s * C, (s + 1) * C)
        phi = conv(gc.conv_rel, r, x).mean(2)
        psi = conv(gc.conv_rel, slice((S + s) * R, (S + s + 1) * R), x).mean(2)
        rel = torch.tanh(phi[..., :, None] - psi[..., None, :])
        topology = conv(gc.conv_refine, c, rel) * gc.alpha + gc.A[s]
        value = conv(gc.conv_value, c, x)
        y = y + torch.einsum('ncuv,nctv->nctu', topology, value)
    return F.relu(gc.bn(y) + gc.down(x))


@pytest.mark.parametrize('in_channels,out_channels', [(3, 16), (16, 16)])
def test_ctrgc_matches_the_per_subset_formula(in_channels, out_channels):
    torch.manual_seed(0)
    model = CTRGCN(
        graph_cfg=dict(layout='coco', mode='spatial'),
        in_channels=in_channels,
        base_channels=out_channels,
        num_stages=2)
    gc = model.gcn[0].gcn if in_channels == 3 else model.gcn[1].gcn
    with torch.no_grad():
        gc.alpha.fill_(0.7)
        gc.A.add_(0.1 * torch.randn_like(gc.A))
        for bn in (m for m in gc.modules() if isinstance(m, nn.BatchNorm2d)):
            bn.running_mean.normal_()
            bn.running_var.uniform_(0.5, 2)
    gc.eval()
    x = torch.randn(3, in_channels, 9, 17)
    with torch.no_grad():
        torch.testing.assert_close(gc(x), _reference_ctrgc(gc, x))


def test_fixed_topology_and_input_checks():
    learned = CTRGCN(graph_cfg=NTU, **TINY)
    fixed = CTRGCN(graph_cfg=NTU, adaptive=False, **TINY)
    n_learned = sum(p.numel() for p in learned.parameters())
    n_fixed = sum(p.numel() for p in fixed.parameters())
    assert n_learned - n_fixed == 4 * 3 * 25 * 25
    assert 'gcn.0.gcn.A' in dict(fixed.named_buffers())
    with pytest.raises(ValueError, match='25 joints'):
        learned(torch.randn(1, 2, 8, 17, 3))
    for bn_type, channels in (('VC', 75), (None, None)):
        model = CTRGCN(graph_cfg=NTU, data_bn_type=bn_type, **TINY)
        assert getattr(model.data_bn, 'num_features', None) == channels
        assert model(torch.randn(2, 2, 8, 25, 3)).shape == (2, 2, 16, 2, 25)


def _num_params(*modules):
    return sum(p.numel() for m in modules for p in m.parameters())


def test_parameter_count_matches_the_paper():
    backbone = CTRGCN(graph_cfg=NTU)
    # CTR-GCN (Chen et al., ICCV 2021) reports 1.46M parameters on NTU RGB+D
    # 120 X-Sub (joint); FR Head (Zhou et al., CVPR 2023, fr-head.md Tables
    # 1 and 3) quotes the same 1.46M for its CTR-GCN baseline there.
    ntu120 = _num_params(backbone, GCNHead(num_classes=120, in_channels=256))
    assert abs(ntu120 - 1.46e6) / 1.46e6 < 0.05, (
        f'{ntu120} parameters vs 1.46M reported by CTR-GCN (ICCV 2021) and '
        'FR Head (fr-head.md Table 3) for NTU RGB+D 120')
    # The official code (Uason-Chen/CTR-GCN, model/ctrgcn.py Model with
    # graph.ntu_rgb_d.Graph, spatial) has 1,462,092 parameters with 120
    # classes and 1,446,672 with 60 (counted by instantiating it).
    assert ntu120 == 1_462_092
    ntu60 = _num_params(backbone, GCNHead(num_classes=60, in_channels=256))
    assert ntu60 == 1_446_672, (
        f'{ntu60} parameters vs 1,446,672 of the official code '
        '(Uason-Chen/CTR-GCN model/ctrgcn.py, NTU-60 setting)')


def test_flops_match_the_paper():
    model = nn.Sequential()
    model.backbone = CTRGCN(graph_cfg=NTU)
    model.head = GCNHead(num_classes=60, in_channels=256)
    model.eval()
    # One NTU sample: 2 persons, 64 frames, 25 joints, 3D.
    flops = FlopAnalyzer(model, torch.randn(1, 2, 64, 25, 3)).total()
    # CTR-GCN (ICCV 2021) reports 1.97 GFLOPs; the official model measured
    # with this FlopAnalyzer gives 1.955 G (multiply-adds).
    assert abs(flops - 1.97e9) / 1.97e9 < 0.05, (
        f'{flops / 1e9:.3f} GFLOPs vs 1.97G reported by CTR-GCN')


def _unwrap(ds_cfg):
    while 'dataset' in ds_cfg:
        ds_cfg = ds_cfg.dataset
    return ds_cfg


def test_all_ctrgcn_configs_are_shipped():
    names = {osp.relpath(p, osp.join(REPO_ROOT, 'configs')) for p in CONFIGS}
    for ds, b in [('nwucla', 16), ('ntu60-xsub', 64), ('ntu60-xview', 64),
                  ('ntu120-xsub', 64), ('ntu120-xset', 64)]:
        suffix = f'_1xb{b}-joint-65e_{ds}-keypoint-3d.py'
        assert f'ctrgcn/ctrgcn{suffix}' in names
        assert f'csre/ctrgcn-csre{suffix}' in names
    assert osp.relpath(DEMO, osp.join(REPO_ROOT, 'configs')) in names


@pytest.mark.parametrize(
    'path',
    CONFIGS,
    ids=[osp.relpath(p, osp.join(REPO_ROOT, 'configs')) for p in CONFIGS])
def test_config_builds_with_matching_head(path):
    cfg = Config.fromfile(path)
    model = MODELS.build(cfg.model).eval()
    assert isinstance(model.backbone, CTRGCN)
    train_ds = _unwrap(cfg.train_dataloader.dataset)
    nwucla = 'nwucla' in path
    expected = (10 if nwucla or 'synthetic' in path else
                120 if 'ntu120' in path else 60)
    assert cfg.model.cls_head.num_classes == train_ds.num_classes == expected
    assert model.cls_head.fc.out_features == expected
    # CTR-GCN's NW-UCLA recipe (the feeder's `repeat: 5`); the CPU-budget
    # `-small` variant shares the ST-GCN budget instead.
    if nwucla and '-small' not in path:
        assert cfg.train_dataloader.dataset.type in ('RepeatDataset',
                                                     'IndexedRepeatDataset')
        assert cfg.train_dataloader.dataset.times == 5
        assert cfg.optim_wrapper.optimizer.weight_decay == 1e-4
    if 'csre' not in path:
        return
    # The eagerly built STFD head matches the backbone's output map.
    clip_len, = [
        t.clip_len for t in train_ds.pipeline
        if t.type in ('UniformSampleFrames', 'SortedResampleFrames')
    ]
    num_person, = [
        t.num_person for t in train_ds.pipeline if t.type == 'FormatGCNInput'
    ]
    V = model.backbone.num_joints
    with torch.no_grad():
        feats = model.backbone(torch.randn(1, num_person, clip_len, V, 3))
    head = cfg.model.cls_head
    assert head.type == 'STFDHead'
    assert feats.shape[2:] == (head.in_channels, head.num_frames,
                               head.num_joints)


def test_nwucla_csre_config_trains_with_stfd_head():
    path = osp.join(REPO_ROOT, 'configs', 'csre',
                    'ctrgcn-csre_1xb16-joint-65e_nwucla-keypoint-3d.py')
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(path).model)
    banks = [
        m for m in model.modules() if isinstance(m, ContrastiveMemoryBank)
    ]
    assert len(banks) == 2
    for bank in banks:
        bank.allocate(4)
    model.init_weights()
    inputs = torch.randn(4, 1, 1, 52, 20, 3)
    samples = _samples([0, 0, 1, 1])
    optim = torch.optim.SGD(model.parameters(), lr=0.01)
    for step in range(2):
        losses = model(inputs, samples, mode='loss')
        loss = sum(v for k, v in losses.items() if k.startswith('loss'))
        optim.zero_grad()
        loss.backward()
        optim.step()
        assert torch.isfinite(loss)
    # Second step: the banks hold the first step's features, so every anchor
    # has positives and the contrastive losses reach the backbone.
    for name in ('spatial', 'temporal'):
        assert losses[f'{name}_valid_anchors'] == 4
        assert losses[f'loss_{name}'] > 0
    assert model.backbone.gcn[9].gcn.conv_value.weight.grad.abs().sum() > 0


def test_tiny_csre_demo_trains_and_tests_through_the_tools(tmp_path):
    small = [
        'train_dataloader.dataset.train_per_class=4',
        'val_dataloader.dataset.val_per_class=2',
        'test_dataloader.dataset.val_per_class=2',
        'default_hooks.logger.interval=1'
    ]
    work = tmp_path / 'work'
    log = run_tool([
        'tools/train.py', DEMO, '--work-dir', work, '--seed', '0',
        '--cfg-options'
    ] + small)
    assert '2 memory bank(s) with 40 slots each' in log
    assert 'loss_spatial' in log and 'loss_temporal' in log
    assert 'acc/top1' in log
    scores = tmp_path / 'scores.pkl'
    out = run_tool([
        'tools/test.py', DEMO, work / 'epoch_1.pth', '--work-dir', tmp_path /
        'test', '--dump', scores, '--cfg-options'
    ] + small)
    assert 'acc/top1' in out
    with open(scores, 'rb') as f:
        dumped = pickle.load(f)
    assert dumped['scores'].shape == (20, 10)
