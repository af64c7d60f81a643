"""Tests of the Hyperformer backbone (Zhou et al., arXiv 2211.09590): shapes on
every layout, stages, the HyperSA score against a loop reference, the body-part
partitions, the parameter count, the configs and the tools."""
import glob
import math
import os.path as osp

import pytest
import torch
import torch.nn as nn
from helpers import REPO_ROOT, run_tool
from mmaction.models.heads import GCNHead
from mmaction.models.utils import Graph
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmengine.registry import init_default_scope

import mmcsre  # noqa: F401
from mmcsre.models.backbones import Hyperformer
from mmcsre.models.backbones.hyperformer import (NTU_PARTITION,
                                                 NW_UCLA_PARTITION, HyperSA,
                                                 derive_body_parts)
from mmcsre.models.memory import ContrastiveMemoryBank
from mmcsre.structures import NTU_RGBD, NW_UCLA

# Narrow and shallow: 3 layers of 12 channels, strides at layers 2 and 3.
TINY = dict(embed_dims=12, num_heads=2, num_layers=3, down_layers=(2, 3))
CUSTOM = dict(num_node=5, inward=[(1, 0), (2, 0), (3, 1), (4, 2)], center=0)
LAYOUTS = {
    'ntu': ('nturgb+d', 25, 2),
    'nwucla': (NW_UCLA.graph_cfg(), 20, 1),
    'coco': ('coco', 17, 2),
    'openpose': ('openpose', 18, 1),
    'custom5': (CUSTOM, 5, 1),
}
# Joint-stream configs (the other streams only change the preprocessor).
CONFIGS = sorted(
    p for pattern in ('hyperformer/*.py', 'csre/hyperformer-*.py')
    for p in glob.glob(osp.join(REPO_ROOT, 'configs', pattern))
    if '-joint-' in p and '-joint-motion-' not in p)
DEMO = osp.join(REPO_ROOT, 'configs', 'demo',
                'hyperformer-tiny-csre_1xb16-joint-1e_synthetic.py')


@pytest.fixture(autouse=True)
def _scope():
    init_default_scope('mmaction')


def _tiny(layout, num_person, **kwargs):
    return Hyperformer(
        dict(layout=layout, mode='spatial'),
        num_person=num_person,
        **dict(TINY, **kwargs))


def _samples(labels, indices):
    out = []
    for y, i in zip(labels, indices):
        ds = ActionDataSample()
        ds.set_gt_labels(torch.LongTensor([int(y)]))
        ds.set_metainfo(dict(sample_idx=int(i)))
        out.append(ds)
    return out


def _groups(labels):
    parts = {}
    for joint, part in enumerate(labels):
        parts.setdefault(part, set()).add(joint)
    return {frozenset(p) for p in parts.values()}


# --------------------------------------------------------------------------
# Shapes, gradients and stages on every layout
# --------------------------------------------------------------------------
@pytest.mark.parametrize('T', [12, 9])
@pytest.mark.parametrize('name', list(LAYOUTS))
def test_forward_backward_on_layouts(name, T):
    layout, V, M = LAYOUTS[name]
    torch.manual_seed(0)
    model = _tiny(layout, M)
    with torch.no_grad():  # attention off at init (alpha = 0): switch it on
        for layer in model.layers:
            layer.attn.alpha.fill_(0.5)
    out = model(torch.randn(2, M, T, V, 3))
    assert out.shape == (2, M, 12, math.ceil(math.ceil(T / 2) / 2), V)
    (out * torch.randn_like(out)).sum().backward()
    for n, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), n
        # a bias feeding a training-mode BatchNorm has a gradient of exactly
        # zero in theory, and 0 or ~1e-9 in floats depending on the threads
        if p.dim() > 1:
            assert p.grad.abs().sum() > 0, n


def test_stage_names_give_the_stated_shapes():
    model = _tiny('nturgb+d', 2).eval()
    assert model.stage_names == ('layers.0', 'layers.1', 'layers.2')
    modules = dict(model.named_modules())
    seen = []
    for name in model.stage_names:
        modules[name].register_forward_hook(
            lambda m, i, o: seen.append(o.shape))
    out = model(torch.randn(3, 2, 9, 25, 3))
    assert seen == [(6, 12, 9, 25), (6, 12, 5, 25), (6, 12, 3, 25)]
    assert out.shape == (3, 2, 12, 3, 25)


@MODELS.register_module()
class _HyperformerTapProbe(nn.Module):
    """Test-only auxiliary head recording the stage features it gets."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.ones(()))
        self.stage_feats = None

    def loss(self, feats, data_samples, stage_feats=None, **kwargs):
        self.stage_feats = stage_feats
        return dict(loss_probe=self.w * 0.)


def test_integer_stage_taps_resolve_through_stage_names():
    model = MODELS.build(
        dict(
            type='MultiStreamRecognizer',
            backbone=dict(
                type='Hyperformer',
                graph_cfg=dict(layout='coco', mode='spatial'),
                **TINY),
            cls_head=dict(type='GCNHead', num_classes=3, in_channels=12),
            stage_taps=dict(first=0, last=-1),
            aux_heads=dict(probe=dict(type='_HyperformerTapProbe'))))
    model(torch.randn(2, 1, 2, 8, 17, 3), _samples([0, 1], [0, 1]), 'loss')
    feats = model.aux_heads.probe.stage_feats
    assert feats['first'].shape == (2, 2, 12, 8, 17)
    assert feats['last'].shape == (2, 2, 12, 2, 17)


def test_init_weights_follow_the_official_code():
    model = _tiny('coco', 2)
    model.init_weights()
    layer = model.layers[0]
    # Multi-scale TCN: batch-norm weights ~ N(1, 0.02), all units included.
    for bn in (layer.tcn.branches[0][1], layer.tcn.branches[1][3].bn):
        assert not torch.equal(bn.weight, torch.ones_like(bn.weight))
        assert (bn.weight - 1).abs().max() < 0.2
    # Residual unit: unit batch norm; attention: alpha 0, mixing identity.
    assert torch.equal(layer.residual.bn.weight, torch.ones(12))
    assert layer.attn.alpha.item() == 0
    assert torch.equal(layer.attn.outer, torch.eye(17).repeat(2, 1, 1))


def test_wrong_input_is_a_clear_error():
    model = _tiny('coco', 2)
    with pytest.raises(ValueError, match='2 person'):
        model(torch.randn(1, 1, 8, 17, 3))
    with pytest.raises(ValueError, match='17 joints'):
        model(torch.randn(1, 2, 8, 25, 3))


# --------------------------------------------------------------------------
# HyperSA and the hypergraph
# --------------------------------------------------------------------------
def test_hypersa_score_matches_loop_reference():
    """s_ij = (q_i.k_j + q_i.e_j + u.e_j + q_i.r_hop(i,j)) / sqrt(d), out =
    (alpha softmax(s) + W) v, then the grouped projection."""
    torch.manual_seed(0)
    V, H, d, T = 5, 2, 3, 2
    hops = torch.tensor([[abs(i - j) for j in range(V)] for i in range(V)])
    sa = HyperSA(4, H * d, H, hops, proj_groups=2).eval()
    with torch.no_grad():
        for p in (sa.rpe, sa.static_key, sa.alpha, sa.outer):
            p.normal_()
    x, e = torch.randn(1, 4, T, V), torch.randn(1, H * d, T, V)
    q, (k, v) = sa.q(x)[0], sa.kv(x)[0].chunk(2)  # (H*d, T, V)
    ref = torch.zeros(H * d, T, V)
    for t in range(T):
        for h in range(H):
            c = slice(h * d, (h + 1) * d)
            score = torch.zeros(V, V)
            for i in range(V):
                for j in range(V):
                    qi, ej = q[c, t, i], e[0, c, t, j]
                    rel = sa.rpe[hops[i, j], c]
                    score[i, j] = (
                        qi @ k[c, t, j] + qi @ ej + sa.static_key[h] @ ej +
                        qi @ rel)
            attn = (score / math.sqrt(d)).softmax(-1)
            mix = sa.alpha * attn + sa.outer[h]
            ref[c, t] = (mix @ v[c, t].t()).t()
    expected = sa.proj(ref[None])
    torch.testing.assert_close(sa(x, e), expected, rtol=1e-4, atol=1e-5)


def test_hyperedge_is_the_projected_mean_of_the_joints_part():
    torch.manual_seed(0)
    model = _tiny('nturgb+d', 1).eval()
    layer = model.layers[1]
    captured = {}
    layer.attn.register_forward_hook(
        lambda m, inputs, o: captured.update(e=inputs[1]))
    x = torch.randn(2, 12, 4, 25)
    layer(x)
    labels = torch.tensor(NTU_PARTITION)
    for v in range(25):
        mean = x[..., labels == labels[v]].mean(-1, keepdim=True)
        torch.testing.assert_close(
            captured['e'][..., v:v + 1],
            layer.hyperedge_proj(mean),
            rtol=1e-4,
            atol=1e-5)


def test_hop_distances_are_shortest_paths():
    model = _tiny('nturgb+d', 2)
    hops = model.layers[0].attn.hops
    assert torch.equal(hops, hops.t()) and (hops.diag() == 0).all()
    assert hops[3, 2] == 1  # head - neck
    assert hops[3, 15] == 8  # head to left foot through the spine
    assert model.layers[0].attn.rpe.shape == (int(hops.max()) + 1, 12)


def test_official_partitions_for_ntu_and_nwucla():
    assert _tiny('nturgb+d', 2).joint_label == NTU_PARTITION
    # Our NTU layout differs from mmaction2's at the hands: same partition.
    assert _tiny(NTU_RGBD.graph_cfg(), 2).joint_label == NTU_PARTITION
    assert _tiny(NW_UCLA.graph_cfg(), 1).joint_label == NW_UCLA_PARTITION
    assert _tiny('nw-ucla', 1).joint_label == NW_UCLA_PARTITION


def test_derived_partitions_are_torso_plus_limbs():
    coco = _tiny('coco', 1).joint_label
    assert coco[0] == 0
    assert _groups(coco) == {
        frozenset(p)
        for p in ({0, 5, 6}, {1, 3}, {2, 4}, {7, 9}, {8, 10}, {11, 13, 15},
                  {12, 14, 16})
    }
    assert _groups(_tiny('openpose', 1).joint_label) == {
        frozenset(p)
        for p in ({0, 1, 2, 5}, {14, 16}, {15, 17}, {3, 4}, {6, 7}, {8, 9, 10},
                  {11, 12, 13})
    }
    ntu = Graph('nturgb+d')
    assert _groups(derive_body_parts(25, ntu.inward, ntu.center)) == {
        frozenset(p)
        for p in ({20, 1, 0}, {2, 3}, {4, 5, 6, 7, 21, 22},
                  {8, 9, 10, 11, 23, 24}, {12, 13, 14, 15}, {16, 17, 18, 19})
    }
    assert _tiny(CUSTOM, 1).joint_label == (0, 1, 2, 1, 2)
    chain = [(i + 1, i) for i in range(4)]
    assert derive_body_parts(5, chain, 0) == (0, ) * 5


def test_explicit_partition_and_its_checks():
    labels = (0, 0, 1, 1, 1)
    assert _tiny(CUSTOM, 1, joint_label=labels).joint_label == labels
    with pytest.raises(ValueError, match='4 entries'):
        _tiny(CUSTOM, 1, joint_label=(0, 0, 1, 1))
    with pytest.raises(ValueError, match='every part used'):
        _tiny(CUSTOM, 1, joint_label=(0, 0, 2, 2, 2))


# --------------------------------------------------------------------------
# Parameter count (the paper's setting: NTU-60, 3 channels, 25 joints, 2
# persons, a linear classifier over 60 classes)
# --------------------------------------------------------------------------
def test_parameter_count_matches_the_official_model():
    backbone = Hyperformer(dict(layout='nturgb+d', mode='spatial'))
    head = GCNHead(num_classes=60, in_channels=216)
    count = sum(p.numel() for m in (backbone, head) for p in m.parameters())
    # Reported: 2.6M, github.com/ZhouYuxuanYX/Hyperformer README.md,
    # "Excellent Efficiency" table (NTU RGB+D 60 X-sub). The official
    # model.Hyperformer.Model(num_class=60, num_point=25, num_person=2)
    # itself has 2,729,194 parameters (instantiated and counted).
    reported = 2.6e6
    assert abs(count - reported) / reported < 0.05, (
        f'{count} parameters, not within 5% of the 2.6M of the official '
        'README (ZhouYuxuanYX/Hyperformer, Excellent Efficiency table)')
    assert count == 2_729_194, f'{count} != official model.Hyperformer'


# --------------------------------------------------------------------------
# Configs
# --------------------------------------------------------------------------
def test_all_configs_present():
    names = {osp.basename(p) for p in CONFIGS}
    for ds in ('ntu60-xsub', 'ntu60-xview', 'ntu120-xsub', 'ntu120-xset'):
        assert f'hyperformer_1xb64-joint-140e_{ds}-keypoint-3d.py' in names
        assert f'hyperformer-csre_1xb64-joint-140e_{ds}-keypoint-3d.py' \
            in names
    assert 'hyperformer_1xb16-joint-150e_nwucla-keypoint-3d.py' in names
    assert 'hyperformer-csre_1xb16-joint-150e_nwucla-keypoint-3d.py' in names
    assert len(CONFIGS) == 10


@pytest.mark.parametrize(
    'path', CONFIGS + [DEMO], ids=lambda p: osp.basename(p)[:-3])
def test_config_builds_with_matching_head(path):
    cfg = Config.fromfile(path)
    model = MODELS.build(cfg.model)
    backbone = model.backbone
    assert isinstance(backbone, Hyperformer)
    ds = cfg.train_dataloader.dataset
    ds = ds.get('dataset', ds)  # NW-UCLA: inside a RepeatDataset
    classes = ds.get('num_classes', 10)
    assert model.cls_head.num_classes == classes
    assert model.cls_head.fc.out_features == classes
    clip = [
        t.clip_len for t in ds.pipeline if t.type == 'UniformSampleFrames'
    ][0]
    persons = [
        t.num_person for t in ds.pipeline if t.type == 'FormatGCNInput'
    ][0]
    assert backbone.num_person == persons
    # The same backbone, narrowed, gives the feature map the head expects.
    narrow = dict(cfg.model.backbone, embed_dims=12, num_heads=2)
    feats = MODELS.build(narrow).eval()(
        torch.randn(1, persons, clip, backbone.num_joints, 3))
    if 'csre' in osp.basename(path):
        head = cfg.model.cls_head
        assert cfg.model.type == 'MultiStreamRecognizer'
        assert head.type == 'STFDHead'
        assert (head.num_frames, head.num_joints) == feats.shape[-2:]


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: osp.basename(p)[:-3])
def test_configs_follow_the_official_recipe(path):
    """github.com/ZhouYuxuanYX/Hyperformer config/*/joint.yaml, kept by CSRE
    for Hyperformer (csre.txt Section 4.2)."""
    cfg = Config.fromfile(path)
    nwucla = 'nwucla' in path
    opt = cfg.optim_wrapper.optimizer
    assert (opt.type, opt.lr, opt.momentum, opt.nesterov) == ('SGD', 0.025,
                                                              0.9, True)
    assert opt.weight_decay == (0. if nwucla else 4e-4)
    assert cfg.train_cfg.max_epochs == (150 if nwucla else 140)
    warmup, steps = cfg.param_scheduler
    assert warmup.type == 'LinearLR' and warmup.end == 5
    assert steps.milestones == [110, 120] and steps.gamma == 0.1
    assert cfg.train_dataloader.batch_size == (16 if nwucla else 64)
    ds = cfg.train_dataloader.dataset
    if nwucla:  # the official NW-UCLA feeder's repeat: 5
        assert (ds.type, ds.times) == ('RepeatDataset', 5)
        ds = ds.dataset
    clip = [t.clip_len for t in ds.pipeline if t.type == 'UniformSampleFrames']
    assert clip == [52 if nwucla else 64]
    classes = 10 if nwucla else 120 if 'ntu120' in path else 60
    assert cfg.model.cls_head.num_classes == classes
    assert ds.num_classes == classes


def test_nwucla_csre_config_trains_a_step():
    cfg = Config.fromfile(
        osp.join(REPO_ROOT, 'configs', 'csre',
                 'hyperformer-csre_1xb16-joint-150e_nwucla-keypoint-3d.py'))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    banks = [
        m for m in model.modules() if isinstance(m, ContrastiveMemoryBank)
    ]
    assert len(banks) == 2
    for bank in banks:
        bank.allocate(4)
    model.init_weights()
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.01))
    model.train()
    idx = torch.tensor([1, 3])  # one batch of two 52-frame NW-UCLA clips
    log = model.train_step(
        dict(
            inputs=list(torch.randn(2, 1, 1, 52, 20, 3)),
            data_samples=_samples([0, 1], idx)), optim)
    assert {'loss_cls', 'loss_spatial', 'loss_temporal'} <= set(log)
    assert all(torch.isfinite(torch.as_tensor(v)) for v in log.values())
    for bank in banks:
        assert bank.filled.tolist() == [False, True, False, True]
    # The attention weight alpha starts at 0 (official init) and learns.
    assert all(layer.attn.alpha.item() != 0 for layer in model.backbone.layers)


# --------------------------------------------------------------------------
# Through the tools
# --------------------------------------------------------------------------
def test_tiny_csre_demo_trains_and_tests(tmp_path):
    small = [
        'train_dataloader.dataset.train_per_class=2',
        'val_dataloader.dataset.val_per_class=1',
        'test_dataloader.dataset.val_per_class=1',
        'default_hooks.logger.interval=1'
    ]
    work = tmp_path / 'work'
    log = run_tool(
        ['tools/train.py', DEMO, '--work-dir', work, '--cfg-options'] + small)
    assert '2 memory bank(s) with 20 slots each' in log
    assert 'loss_spatial' in log and 'loss_temporal' in log
    out = run_tool([
        'tools/test.py', DEMO, work / 'epoch_1.pth', '--work-dir', tmp_path /
        'test', '--cfg-options'
    ] + small)
    assert 'acc/top1' in out
