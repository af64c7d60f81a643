"""BlockGCN backbone: layouts and clip lengths, stage names, its BlockGC,
graph-distance and persistent-homology parts, parameter count, configs and one
CSRE run through the tools."""
import glob
import math
import os.path as osp
import re

import numpy as np
import pytest
import torch
from helpers import REPO_ROOT, run_tool
from mmaction.models.heads import GCNHead
from mmaction.models.utils import Graph
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmengine.config import Config
from mmengine.registry import init_default_scope
from scipy.sparse.csgraph import minimum_spanning_tree

from mmcsre.models.backbones import BlockGCN
from mmcsre.models.backbones.blockgcn import (BlockGC,
                                              PersistentHomologyEncoding,
                                              hop_distance,
                                              minimum_spanning_tree_weights)
from mmcsre.models.memory import ContrastiveMemoryBank
from mmcsre.structures import get_layout

CUSTOM = dict(num_node=5, inward=[(1, 0), (2, 1), (3, 1), (4, 0)], center=0)
LAYOUTS = {
    'nturgb+d': ('nturgb+d', 25, 2),
    'nw-ucla': (get_layout('nw-ucla').graph_cfg(), 20, 1),
    'coco': ('coco', 17, 1),
    'openpose': ('openpose', 18, 1),
    'custom5': (CUSTOM, 5, 1),
}
TINY = dict(
    base_channels=8,
    num_stages=4,
    inflate_stages=[3],
    down_stages=[2, 4],
    num_groups=4,
    num_elements=8)

# Official BlockGCN, NTU-60 setting: 1,372,780 parameters. Source: official
# repository ZhouYuxuanYX/BlockGCN, model/BlockGCN.py, Model(num_class=60,
# num_point=25, num_person=2, graph='graph.ntu_rgb_d.Graph',
# graph_args=dict(labeling_mode='spatial')) (config/nturgbd-cross-subject/
# default.yaml), counted with sum(p.numel()), torch_topological's
# StructureElementLayer(n_elements=64) holding 256 of them. The paper
# (CVPR 2024) quotes about 1.3M.
OFFICIAL_PARAMS_NTU60 = 1_372_780
OFFICIAL_SOURCE = ('ZhouYuxuanYX/BlockGCN model/BlockGCN.py Model(num_class='
                   '60, num_point=25, num_person=2), parameters counted')

# The joint-stream configs (the stream variants are generated from them).
BASELINES = sorted(
    glob.glob(
        osp.join(REPO_ROOT, 'configs', 'blockgcn',
                 'blockgcn_*-joint-140e_*.py')))
CSRE = sorted(
    glob.glob(
        osp.join(REPO_ROOT, 'configs', 'csre',
                 'blockgcn-csre_*-joint-140e_*.py')))
TINY_CONFIG = osp.join(REPO_ROOT, 'configs', 'demo',
                       'blockgcn-tiny-csre_1xb16-joint-1e_synthetic.py')


@pytest.fixture(autouse=True)
def _scope_and_one_thread(monkeypatch):
    init_default_scope('mmaction')
    # Small tensors: a second OpenMP thread only adds synchronisation, which
    # costs seconds per step on a loaded machine (also for the tools).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    monkeypatch.setenv('OMP_NUM_THREADS', '1')
    yield
    torch.set_num_threads(threads)


def _ids(paths):
    return [osp.basename(p) for p in paths]


def _samples(n, num_classes):
    out = []
    for i in range(n):
        ds = ActionDataSample()
        # mmaction2 1.1: set_gt_labels; 1.2 renamed it set_gt_label.
        label = torch.LongTensor([i % num_classes])
        if hasattr(ds, 'set_gt_labels'):
            ds.set_gt_labels(label)
        else:
            ds.set_gt_label(label)
        ds.set_metainfo(dict(sample_idx=i))
        out.append(ds)
    return out


# --------------------------------------------------------------------------
# Shapes on every layout, stage names
# --------------------------------------------------------------------------
@pytest.mark.parametrize('T', [16, 13])
@pytest.mark.parametrize('name', list(LAYOUTS))
def test_forward_backward_on_each_layout(name, T):
    layout, V, M = LAYOUTS[name]
    torch.manual_seed(0)
    model = BlockGCN(
        graph_cfg=dict(layout=layout, mode='spatial'), num_person=M, **TINY)
    x = torch.randn(2, M, T, V, 3)
    modules = dict(model.named_modules())
    seen = {}
    handles = [
        modules[s].register_forward_hook(
            lambda mod, inp, out, s=s: seen.__setitem__(s, out.shape))
        for s in model.stage_names
    ]
    out = model(x)
    for h in handles:
        h.remove()
    # Two stride-2 layers: ceil(ceil(T / 2) / 2) frames.
    t_out = math.ceil(math.ceil(T / 2) / 2)
    assert out.shape == (2, M, 16, t_out, V)
    assert model.stage_names == ('layers.0', 'layers.1', 'layers.2',
                                 'layers.3')
    t1 = math.ceil(T / 2)
    expected = [(8, T), (8, t1), (16, t1), (16, t_out)]
    assert [seen[s] for s in model.stage_names] == [(2 * M, c, t, V)
                                                    for c, t in expected]
    out.square().mean().backward()
    for pname, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), pname
    # The learnable topology, hop embedding and structure elements learn.
    assert model.layers[0].gcn.topology.grad.abs().sum() > 0
    assert model.layers[0].gcn.hop_embed.grad.abs().sum() > 0
    assert model.topology.centres.grad.abs().sum() > 0


def test_default_architecture_and_stage_names():
    model = BlockGCN(graph_cfg=dict(layout='nturgb+d', mode='spatial'))
    names = model.stage_names
    assert names == tuple(f'layers.{i}' for i in range(10))
    modules = dict(model.named_modules())
    assert all(n in modules for n in names)
    widths = [modules[n].gcn.project.out_channels for n in names]
    assert widths == [128] * 4 + [256] * 6
    strided = [
        i for i, n in enumerate(names)
        if modules[n].tcn.branches[-1][0].stride[0] == 2
    ]
    assert strided == [4, 7]
    assert all(modules[n].gcn.num_groups == 8 for n in names)
    assert model.topology.num_elements == 64


def test_parameter_count_matches_official():
    model = BlockGCN(graph_cfg=dict(layout='nturgb+d', mode='spatial'))
    head = GCNHead(num_classes=60, in_channels=256)
    ours = sum(p.numel()
               for p in model.parameters()) + sum(p.numel()
                                                  for p in head.parameters())
    ratio = ours / OFFICIAL_PARAMS_NTU60
    assert abs(ratio - 1) <= 0.05, (
        f'BlockGCN + GCNHead (NTU-60) has {ours:,} parameters, '
        f'{ratio:.3f} x the {OFFICIAL_PARAMS_NTU60:,} of {OFFICIAL_SOURCE}')


# --------------------------------------------------------------------------
# BlockGC and the static (graph distance) topology encoding
# --------------------------------------------------------------------------
def test_hop_distance_is_the_graph_distance():
    hops = hop_distance(Graph('nturgb+d', 'spatial'))
    assert hops.shape == (25, 25) and torch.equal(hops, hops.T)
    assert (hops.diagonal() == 0).all()
    # Right hand tip (23, 0-based) to left foot (19): up the arm to the
    # spine, down to the base, along the left leg: 11 bones.
    assert hops[23, 19] == 11 and hops.max() == 11
    # A two-component custom layout: the unreachable pairs get their own
    # bucket.
    split = dict(num_node=4, inward=[(1, 0), (3, 2)], center=0)
    hops = hop_distance(Graph(split, 'spatial'))
    assert hops[0, 1] == 1 and hops[0, 2] == 2 and hops[2, 3] == 1


def test_blockgc_is_block_diagonal_over_groups():
    torch.manual_seed(0)
    gc = BlockGC(16, 16, hop_distance(Graph(CUSTOM, 'spatial')), 3, 4)
    with torch.no_grad():
        gc.topology.normal_()
        gc.hop_embed.normal_()
    x = torch.randn(2, 16, 6, 5)
    x2 = x.clone()
    x2[:, :4] += torch.randn(2, 4, 6, 5)  # group 0 only

    def mixed(inp):
        # Before BN and the residual: the grouped projection of the
        # aggregated groups.
        agg = torch.einsum('ngctv,kgvw->ngkctw', inp.view(2, 4, 4, 6, 5),
                           gc.adjacency())
        return gc.project(agg.reshape(2, -1, 6, 5))

    diff = (mixed(x2) - mixed(x)).abs()
    assert diff[:, :4].amax() > 1e-3
    assert diff[:, 4:].amax() == 0
    # Joints at the same hop distance share one learned encoding.
    with torch.no_grad():
        gc.topology.zero_()
    adj = gc.adjacency()
    hops = gc.hops
    for w in range(5):
        col = adj[0, 0, :, w]
        for h in hops[:, w].unique():
            vals = col[hops[:, w] == h]
            assert torch.allclose(vals, vals[0].expand_as(vals))


def test_blockgc_starts_as_identity_aggregation():
    gc = BlockGC(8, 8, hop_distance(Graph(CUSTOM, 'spatial')), 3, 2)
    eye = torch.eye(5).expand(3, 2, 5, 5)
    # Hop encodings start at 0 and the topologies at I (column norm 1).
    torch.testing.assert_close(
        gc.adjacency(), eye / (1 + 1e-4), rtol=0, atol=1e-6)


# --------------------------------------------------------------------------
# Dynamic topology encoding: 0-dim persistent homology
# --------------------------------------------------------------------------
def test_mst_weights_match_scipy():
    torch.manual_seed(0)
    d = torch.rand(4, 9, 9, dtype=torch.float64)
    d = d + d.transpose(1, 2)
    d.diagonal(dim1=1, dim2=2).zero_()
    ours = minimum_spanning_tree_weights(d)
    assert ours.shape == (4, 8)
    for i in range(4):
        ref = minimum_spanning_tree(d[i].numpy()).data
        np.testing.assert_allclose(np.sort(ours[i].numpy()), np.sort(ref))


def test_persistence_features_invariances():
    torch.manual_seed(0)
    enc = PersistentHomologyEncoding(num_elements=6)
    x = torch.randn(3, 2, 7, 10, 3)
    feats = enc(x)
    assert feats.shape == (3, 6)
    # Invariant to joint order, frame order, rigid motion and scale (the
    # distances are scaled per sample) and to the other samples in the
    # batch; not to the pose itself.
    rot, _ = torch.linalg.qr(torch.randn(3, 3))
    moved = 2.5 * x[:, :, torch.randperm(7)][:, :, :, torch.randperm(10)]
    moved = moved @ rot.T + torch.randn(3)
    torch.testing.assert_close(enc(moved), feats, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(enc(x[1:2]), feats[1:2])
    assert not torch.allclose(enc(torch.randn_like(x)), feats, atol=1e-3)
    # With E structure elements at (c0, c1) and sharpness (s0, s1):
    # f = sum_i exp(-s0^2 c0^2 - s1^2 (d_i - c1)^2) over the V - 1 deaths.
    d = enc.persistence_deaths(x)
    c, s = enc.centres.detach(), enc.sharpness.detach()
    ref = torch.exp(-(s[:, None, None, 0] * c[:, None, None, 0])**2 -
                    (s[:, None, None, 1] *
                     (d[None] - c[:, None, None, 1]))**2).sum(-1).T
    torch.testing.assert_close(feats.detach(), ref)


def test_without_persistent_homology():
    model = BlockGCN(
        graph_cfg=dict(layout='coco', mode='spatial'),
        num_person=1,
        num_elements=0,
        **{
            k: v
            for k, v in TINY.items() if k != 'num_elements'
        })
    assert model.topology is None and model.layers[0].topo is None
    assert model(torch.randn(2, 1, 8, 17, 3)).shape == (2, 1, 16, 2, 17)


# --------------------------------------------------------------------------
# Configs
# --------------------------------------------------------------------------
def test_config_set_is_complete():
    ntu = ('ntu60-xsub', 'ntu60-xview', 'ntu120-xsub', 'ntu120-xset')
    suffixes = [f'1xb64-joint-140e_{d}' for d in ntu]
    suffixes.append('1xb16-joint-140e_nwucla')
    want = {f'blockgcn_{s}-keypoint-3d.py' for s in suffixes}
    assert set(_ids(BASELINES)) == want
    assert set(_ids(CSRE)) == {
        n.replace('blockgcn_', 'blockgcn-csre_')
        for n in want
    }


@pytest.mark.parametrize('path', BASELINES + CSRE, ids=_ids(BASELINES + CSRE))
def test_config_builds_with_recipe(path):
    cfg = Config.fromfile(path)
    nwucla = 'nwucla' in path
    num_classes = 10 if nwucla else 120 if 'ntu120' in path else 60
    train_ds = cfg.train_dataloader.dataset
    if nwucla:  # Hyperformer's NW-UCLA feeder repeats the set 5 times.
        assert (train_ds.type, train_ds.times) == ('RepeatDataset', 5)
        train_ds = train_ds.dataset
    assert cfg.model.cls_head.num_classes == num_classes
    assert train_ds.num_classes == num_classes
    model = MODELS.build(cfg.model)
    assert isinstance(model.backbone, BlockGCN)
    assert model.cls_head.fc.out_features == num_classes
    V = 20 if nwucla else 25
    assert model.backbone.graph.num_node == V
    assert model.backbone.data_bn.num_features == (1
                                                   if nwucla else 2) * V * 128
    # BlockGCN's own recipe (see the schedule file for the sources).
    opt = cfg.optim_wrapper.optimizer
    assert (opt.type, opt.momentum, opt.nesterov) == ('SGD', 0.9, True)
    assert (opt.lr, opt.weight_decay) == ((0.025, 0.) if nwucla else
                                          (0.05, 4e-4))
    assert cfg.train_cfg.max_epochs == 140
    warmup, steps = cfg.param_scheduler
    assert (warmup.type, warmup.end) == ('LinearLR', 5)
    assert steps.milestones == [110, 120] and steps.gamma == 0.1
    assert cfg.train_dataloader.batch_size == (16 if nwucla else 64)
    clip = [
        t.clip_len for t in train_ds.pipeline
        if t.type == 'UniformSampleFrames'
    ]
    assert clip == [52 if nwucla else 64]
    if path in CSRE:
        # The eager head sizes are the backbone's real output size.
        assert cfg.model.type == 'MultiStreamRecognizer'
        assert cfg.model.cls_head.type == 'STFDHead'
        t_out = math.ceil(math.ceil(clip[0] / 2) / 2)
        assert (cfg.model.cls_head.num_frames,
                cfg.model.cls_head.num_joints) == (t_out, V)


def test_nwucla_csre_config_trains_one_step():
    torch.manual_seed(0)
    cfg = Config.fromfile(
        osp.join(REPO_ROOT, 'configs', 'csre',
                 'blockgcn-csre_1xb16-joint-140e_nwucla-keypoint-3d.py'))
    model = MODELS.build(cfg.model)
    for bank in [
            m for m in model.modules() if isinstance(m, ContrastiveMemoryBank)
    ]:
        bank.allocate(2)
    model.init_weights()
    shapes = []
    model.backbone.register_forward_hook(
        lambda mod, inp, out: shapes.append(out.shape))
    inputs = torch.randn(2, 1, 1, 52, 20, 3)
    losses = model(inputs, _samples(2, num_classes=2), mode='loss')
    loss = sum(v for k, v in losses.items() if k.startswith('loss'))
    assert torch.isfinite(loss)
    loss.backward()
    assert shapes == [(2, 1, 256, 13, 20)]
    assert {'loss_cls', 'loss_spatial', 'loss_temporal'} <= set(losses)
    # The first step meets empty banks (no valid anchor) and fills them;
    # the tools test below trains against filled banks.
    assert losses['spatial_valid_anchors'] == 0
    for bank in model.cls_head.banks.values():
        assert bool(bank.filled.all())
    assert model.backbone.layers[0].gcn.topology.grad is not None
    assert all(p.grad is not None
               for p in model.cls_head.decompose.parameters())


# --------------------------------------------------------------------------
# End to end through the tools
# --------------------------------------------------------------------------
def test_tiny_csre_trains_and_tests_through_tools(tmp_path):
    small = [
        'train_dataloader.dataset.train_per_class=2',
        'val_dataloader.dataset.val_per_class=1',
        'test_dataloader.dataset.val_per_class=1'
    ]
    work = tmp_path / 'work'
    log = run_tool([
        'tools/train.py', TINY_CONFIG, '--work-dir', work, '--seed', '0',
        '--cfg-options'
    ] + small + ['default_hooks.logger.interval=1'])
    assert '2 memory bank(s) with 20 slots each' in log
    # Batches of 16 and 4: the first meets empty banks, the second has
    # positives and negatives for each of its anchors.
    valid = re.findall(r'spatial_valid_anchors: ([0-9.]+)', log)
    assert [float(v) for v in valid] == [0.0, 4.0]
    assert 'loss_spatial' in log and 'loss_temporal' in log
    out = run_tool([
        'tools/test.py', TINY_CONFIG, work /
        'epoch_1.pth', '--work-dir', tmp_path / 'test', '--cfg-options'
    ] + small)
    assert 'acc/top1' in out
    state = torch.load(work / 'epoch_1.pth', weights_only=True)['state_dict']
    assert 'backbone.layers.3.gcn.topology' in state
