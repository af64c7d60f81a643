"""STFGCN backbone: layouts, input channels, the STF adjacency (instance
dependence, gradients, the beta taps), baseline/STF checkpoint compatibility,
the disentangled adjacency, the parameter count and the configs."""
import glob
import os.path as osp

import numpy as np
import pytest
import torch
from helpers import REPO_ROOT
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmengine.config import Config
from mmengine.registry import init_default_scope

import mmcsre  # noqa: F401
from mmcsre.models.backbones import STFGCN
from mmcsre.models.backbones.stfgcn import disentangled_adjacency

NWUCLA = dict(
    num_node=20,
    inward=[(0, 1), (1, 2), (3, 2), (4, 2), (5, 4), (6, 5), (7, 6), (8, 2),
            (9, 8), (10, 9), (11, 10), (12, 0), (13, 12), (14, 13), (15, 14),
            (16, 0), (17, 16), (18, 17), (19, 18)],
    center=2)
CUSTOM = dict(num_node=5, inward=[(1, 0), (2, 1), (3, 0), (4, 3)], center=0)
LAYOUTS = [('nturgb+d', 25), (NWUCLA, 20), ('nw-ucla', 20), ('coco', 17),
           ('openpose', 18), (CUSTOM, 5)]
LAYOUT_IDS = ['ntu', 'nwucla-dict', 'nwucla-name', 'coco', 'openpose', 'c5']
NTU = dict(layout='nturgb+d', mode='spatial')
# Two blocks of 12 and 24 channels, stride 2 at block 2.
TINY = dict(stage_channels=(12, 24), down_stages=(2, ), stf_channels=4)
CONFIG_DIR = osp.join(REPO_ROOT, 'configs', 'stfgcn')
STF_KEYS = ('.stf_embed.', '.stf_graph.')


@pytest.fixture(autouse=True)
def _scope():
    init_default_scope('mmaction')


def _stf_params(model):
    return {n: p for n, p in model.named_parameters() if 'stf_' in n}


@pytest.mark.parametrize('C', [3, 4])
@pytest.mark.parametrize('layout,V', LAYOUTS, ids=LAYOUT_IDS)
def test_forward_backward_every_layout(layout, V, C):
    torch.manual_seed(0)
    model = STFGCN(
        graph_cfg=dict(layout=layout, mode='spatial'), in_channels=C, **TINY)
    x = torch.randn(2, 2, 9, V, C, requires_grad=True)
    out = model(x)
    assert out.shape == (2, 2, 24, 5, V)
    out.square().mean().backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    for name, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
    # Every beta and alpha parameter learns from the classification path.
    assert all(p.grad.abs().sum() > 0 for p in _stf_params(model).values())


def test_wrong_input_is_refused():
    model = STFGCN(graph_cfg=NTU, **TINY)
    with pytest.raises(ValueError, match='25 joints x 3 channels'):
        model(torch.randn(1, 2, 8, 17, 3))


def test_stf_adjacency_is_instance_dependent():
    torch.manual_seed(0)
    model = STFGCN(graph_cfg=NTU, **TINY).eval()
    gcn = model.stages[1].gcn
    x = torch.randn(2, 12, 7, 25)
    G = gcn.stf_adjacency(x)
    assert G.shape == (2, 3, 25, 25)
    assert (G[0] - G[1]).abs().max() > 1e-3
    # The same sample gives the same G_k, in a batch or alone.
    torch.testing.assert_close(gcn.stf_adjacency(x[:1]), G[:1])
    # G enters the aggregation: zeroing alpha's output changes the GCN.
    with torch.no_grad():
        y = gcn(x)
        gcn.stf_graph.conv_out.weight.zero_()
        gcn.stf_graph.conv_out.bias.zero_()
        assert not torch.allclose(gcn(x), y)


def test_gradients_reach_beta_and_alpha_through_g():
    torch.manual_seed(0)
    model = STFGCN(graph_cfg=NTU, **TINY)
    gcn = model.stages[0].gcn
    gcn.stf_adjacency(torch.randn(2, 3, 9, 25)).square().sum().backward()
    for module in (gcn.stf_embed, gcn.stf_graph):
        for name, p in module.named_parameters():
            assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_beta_taps_output_the_embedding():
    torch.manual_seed(0)
    model = STFGCN(graph_cfg=NTU, stage_channels=(12, 24, 48))
    names = model.stf_embedding_names
    assert names == [f'stages.{i}.gcn.stf_embed' for i in range(3)]
    modules = dict(model.named_modules())
    shapes = []
    for name in names:
        modules[name].register_forward_hook(
            lambda m, i, o: shapes.append(tuple(o.shape)))
    model(torch.randn(3, 2, 11, 25, 3))
    # beta sees each GCN's input: T frames at blocks 1-2, ceil(T/2) at 3.
    assert shapes == [(6, 1, 11, 25), (6, 1, 11, 25), (6, 1, 6, 25)]
    assert STFGCN(
        graph_cfg=NTU, stf_stages=(2, ),
        **TINY).stf_embedding_names == ['stages.1.gcn.stf_embed']
    with pytest.raises(ValueError, match='stf_stages'):
        STFGCN(graph_cfg=NTU, stf_stages=(2, 3), **TINY)
    assert STFGCN(graph_cfg=NTU, use_stf=False).stf_embedding_names == []


def test_beta_taps_through_multi_stream_recognizer():
    model = MODELS.build(
        dict(
            type='MultiStreamRecognizer',
            backbone=dict(type='STFGCN', graph_cfg=NTU, **TINY),
            cls_head=dict(type='GCNHead', num_classes=5, in_channels=24),
            stage_taps=dict(
                beta0='stages.0.gcn.stf_embed',
                beta1='stages.1.gcn.stf_embed',
                last=-1)))
    feats, kw = model.extract_feat(
        torch.randn(3, 1, 2, 12, 25, 3), with_taps=True)
    taps = kw['stage_feats']
    assert taps['beta0'].shape == taps['beta1'].shape == (3, 2, 1, 12, 25)
    assert taps['last'].shape == feats.shape == (3, 2, 24, 6, 25)
    # The tap is beta's output itself: it carries gradient to beta.
    taps['beta1'].sum().backward()
    assert model.backbone.stages[1].gcn.stf_embed[0].weight.grad.abs().sum(
    ) > 0


def test_baseline_checkpoint_loads_into_stf_model():
    torch.manual_seed(0)
    baseline = STFGCN(graph_cfg=NTU, use_stf=False, **TINY)
    stf = STFGCN(graph_cfg=NTU, use_stf=True, **TINY)
    base_keys, stf_keys = set(baseline.state_dict()), set(stf.state_dict())
    assert base_keys < stf_keys
    extra = stf_keys - base_keys
    assert extra == {k for k in stf_keys if any(s in k for s in STF_KEYS)}
    assert {k.split('.gcn.')[0] for k in extra} == {'stages.0', 'stages.1'}
    result = stf.load_state_dict(baseline.state_dict(), strict=False)
    # (BN fills a missing num_batches_tracked silently.)
    assert set(result.missing_keys) == {
        k
        for k in extra if not k.endswith('num_batches_tracked')
    } and not result.unexpected_keys
    # With alpha's zero start (init_weights), G_k = 0 and the STF
    # model reproduces the baseline it loaded.
    stf.init_weights()
    stf.load_state_dict(baseline.state_dict(), strict=False)
    baseline.eval(), stf.eval()
    x = torch.randn(2, 2, 10, 25, 3)
    with torch.no_grad():
        G = stf.stages[0].gcn.stf_adjacency(torch.randn(4, 3, 10, 25))
        assert G.abs().max() == 0
        torch.testing.assert_close(stf(x), baseline(x))


def test_disentangled_adjacency_on_a_chain():
    # Chain 0-1-2-3-4: scale k links joints exactly k apart, plus self-loops.
    A = np.zeros((5, 5))
    for i in range(4):
        A[i, i + 1] = A[i + 1, i] = 1
    scales = disentangled_adjacency(A, 3)
    dist = np.abs(np.arange(5)[:, None] - np.arange(5)[None])
    for k in range(3):
        support = (dist == k) | (dist == 0)
        assert ((scales[k] != 0) == support).all()
        deg = support.sum(1)
        np.testing.assert_allclose(
            scales[k], support / np.sqrt(deg[:, None] * deg[None]), rtol=1e-6)
    model = STFGCN(graph_cfg=NTU, use_stf=False, **TINY)
    assert model.stages[0].gcn.A.shape == (3, 25, 25)
    assert torch.all(model.stages[0].gcn.A_res.abs() <= 1e-6)


def test_parameter_count():
    """MS-G3D's published size is 3.2M (factorised + G3D pathways, K=13); ours
    is the factorised pathway with K=3 (see docs/backbones/stfgcn.md)."""
    head = MODELS.build(dict(type='GCNHead', num_classes=60, in_channels=384))
    counts = {}
    for use_stf in (False, True):
        model = STFGCN(graph_cfg=NTU, use_stf=use_stf)
        counts[use_stf] = sum(p.numel() for p in model.parameters()) + sum(
            p.numel() for p in head.parameters())
    print(f'STFGCN NTU-60 with GCNHead: baseline {counts[False]:,}, '
          f'STF {counts[True]:,}')
    assert counts[False] == 955_905
    assert counts[True] == 968_445


def _configs(prefix):
    return sorted(
        p for p in glob.glob(osp.join(CONFIG_DIR, f'{prefix}_*-joint-*.py'))
        if '-joint-motion-' not in p)


# Per dataset: (epochs, milestones, classes, fine-tuning lr); MS-G3D's
# official schedules, STF's fine-tuning lr (stf.md "Training scheme").
RECIPES = {
    'ntu60': (50, [30, 40], 60, 1e-3),
    'ntu120': (60, [30, 50], 120, 5e-4),
    'kinetics400': (65, [45, 55], 400, 1e-4),
}
# STF losses of each config family (None: no STF head).
FAMILY_LOSSES = {
    'msg3d-k3': None,
    'stfgcn': ('divergence', 'coherence', 'adjacency'),
    'stfgcn-ft': ('divergence', 'coherence', 'adjacency'),
    'stfgcn-ft-e': ('exploration', ),
    'msg3d-k3-ft-c': ('coherence', ),
    'msg3d-k3-ft-dc': ('divergence', 'coherence'),
}


def test_configs_follow_the_recipes():
    """MS-G3D's recipe (official configs): SGD Nesterov lr 0.05, wd 5e-4, batch
    32, steps 30/40 in 50 epochs (NTU-60), 30/50 in 60 (NTU-120), 45/55 in 65
    (Kinetics); fine-tuning at STF's lower lr (1e-3 NTU-60, 5e-4 NTU-120, 1e-4
    Kinetics); the STF head with each family's losses."""
    paths = [p for family in FAMILY_LOSSES for p in _configs(family)]
    assert len(paths) == 5 * 3 + 5 + 2
    for path in paths:
        cfg = Config.fromfile(path)
        name = osp.basename(path)
        family = name.split('_')[0]
        data = next(k for k in RECIPES if f'_{k}-' in name)
        epochs, milestones, classes, ft_lr = RECIPES[data]
        fine_tuned = '-ft' in family
        opt = cfg.optim_wrapper.optimizer
        assert (opt.type, opt.lr, opt.momentum, opt.weight_decay,
                opt.nesterov) == ('SGD', ft_lr if fine_tuned else 0.05, 0.9,
                                  5e-4, True), name
        assert cfg.train_cfg.max_epochs == epochs
        assert f'-{epochs}e_' in name
        (steps, ) = cfg.param_scheduler
        assert steps.milestones == milestones
        assert cfg.train_dataloader.batch_size == 32
        assert cfg.model.cls_head.num_classes == classes
        use_stf = family.startswith('stfgcn')
        assert cfg.model.backbone.use_stf == use_stf
        losses = FAMILY_LOSSES[family]
        heads = cfg.model.get('aux_heads') or {}
        if losses is None:
            assert not heads, name
        else:
            assert tuple(heads['stf'].losses) == losses, name
            if 'adjacency' in losses:
                assert tuple(heads['stf'].embedding_taps) == ('embed0',
                                                              'embed1',
                                                              'embed2')
        model = MODELS.build(cfg.model)
        assert (len(model.backbone.stf_embedding_names) == 3) == use_stf
        if losses and 'adjacency' in losses:
            taps = [
                model.stage_taps[t] for t in ('embed0', 'embed1', 'embed2')
            ]
            assert taps == model.backbone.stf_embedding_names
        if fine_tuned:
            baseline = 'msg3d-k3_' + name.split('_', 1)[1]
            # the baseline run's folder: tools/train.py takes its newest
            # checkpoint, however long the baseline was trained
            assert cfg.load_from == f'work_dirs/{baseline[:-3]}/'
            assert osp.isfile(osp.join(CONFIG_DIR, baseline))
            # Each stream child starts from its own stream's baseline.
            for tag in ('bone', 'joint-motion', 'bone-motion'):
                child = Config.fromfile(
                    path.replace('-joint-', f'-{tag}-', 1)).load_from
                assert child == cfg.load_from.replace('-joint-', f'-{tag}-')
        else:
            assert cfg.load_from is None


def test_stf_losses_train_stfgcn_with_the_adjacency_loss():
    init_default_scope('mmaction')
    cfg = Config.fromfile(_configs('stfgcn')[0])
    model = MODELS.build(cfg.model).train()
    samples = []
    for label in (0, 1):
        sample = ActionDataSample()
        sample.set_gt_labels(torch.LongTensor([label]))
        samples.append(sample)
    losses = model.loss(torch.randn(2, 1, 2, 16, 25, 3), samples)
    assert {'stf.loss_divergence', 'stf.loss_coherence',
            'stf.loss_adjacency'} <= set(losses)
    beta = model.backbone.stages[0].gcn.stf_embed
    grad = torch.autograd.grad(losses['stf.loss_adjacency'],
                               next(beta.parameters()))[0]
    assert grad.abs().sum() > 0


def test_baseline_config_checkpoint_fits_ft_config_model():
    ft = Config.fromfile(_configs('stfgcn-ft')[0])
    baseline = Config.fromfile(
        osp.join(REPO_ROOT, 'configs', 'stfgcn',
                 osp.basename(osp.dirname(ft.load_from)) + '.py'))
    base_model, ft_model = MODELS.build(baseline.model), MODELS.build(ft.model)
    result = ft_model.load_state_dict(base_model.state_dict(), strict=False)
    assert not result.unexpected_keys
    assert result.missing_keys and all(
        any(s in k for s in STF_KEYS) for k in result.missing_keys)
