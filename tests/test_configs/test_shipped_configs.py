"""Every shipped config loads, builds and runs a training step."""
import glob
import os.path as osp
import pickle

import numpy as np
import pytest
import torch
from helpers import REPO_ROOT
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope

import mmcsre  # noqa: F401
from mmcsre.engine.hooks import MemoryBankInitHook
from mmcsre.engine.hooks.memory_bank_init_hook import has_lazy_params
from mmcsre.models.memory import ContrastiveMemoryBank
from mmcsre.structures import get_layout

STREAM_TAGS = ('-bone-', '-joint-motion-', '-bone-motion-')
ALL_CONFIGS = sorted(
    p for p in glob.glob(
        osp.join(REPO_ROOT, 'configs', '**', '*.py'), recursive=True)
    if '_base_' not in p)
# Stream configs are one-line children of these (test_stream_configs.py
# checks they differ only in the stream); one model's streams train below.
CONFIGS = [
    p for p in ALL_CONFIGS if (not any(
        t in osp.basename(p)
        for t in STREAM_TAGS) or osp.basename(p).startswith('stgcn-small_'))
    # CP-STN pre-training has no classifier: test_cpstn_configs.py.
    and not osp.basename(p).startswith(('cpstn_', 'cpstn-small_'))
]
# Full paper recipes (not the demo and CPU-budget variants).
PAPER_CONFIGS = [
    p for p in CONFIGS if 'synthetic' not in p and '-small' not in p
    # HCN keeps its own recipe (Adam, 500 epochs), checked in test_hcn.py.
    and not osp.basename(p).startswith('hcn')
    # Hyperformer keeps its own (lr 0.025, 140/150 epochs): test_hyperformer.py
    and not osp.basename(p).startswith('hyperformer')
    # MS-G3D / STF-GCN keep MS-G3D's (lr 0.05, 50/60 epochs): test_stfgcn.py
    and '/stfgcn/' not in p
    # CP-STN evaluation keeps CP-STN's: test_cpstn_eval_configs.py
    and '/cpstn/' not in p
]


def _ids(paths):
    return [osp.relpath(p, osp.join(REPO_ROOT, 'configs')) for p in paths]


def _fake_pickle(path, ds_cfg, num_classes, val_split):
    layout = get_layout(ds_cfg.layout)
    rng = np.random.default_rng(0)
    annos = []
    for i in range(4):
        T = [1, 20, 80, 7][i]
        annos.append(
            dict(
                frame_dir=f's{i}',
                label=i % num_classes,
                total_frames=T,
                keypoint=rng.normal(size=(1 + i % 2, T, layout.num_node,
                                          3)).astype(np.float32)))
    data = dict(
        split={
            ds_cfg.split: ['s0', 's1', 's2'],
            val_split: ['s3']
        },
        annotations=annos)
    with open(path, 'wb') as f:
        pickle.dump(data, f)


def _unwrap(ds_cfg):
    """The dataset inside repeat wrappers (CTR-GCN's NW-UCLA recipe repeats the
    training set 5 times per epoch; IndexedRepeatDataset as well)."""
    while 'dataset' in ds_cfg:
        ds_cfg = ds_cfg.dataset
    return ds_cfg


def test_configs_found():
    assert len(CONFIGS) >= 24


def test_every_baseline_has_a_csre_variant():
    names = {osp.basename(p) for p in ALL_CONFIGS}
    for path in ALL_CONFIGS:
        name = osp.basename(path)
        # FR Head and STF configs are variants of baselines, not baselines;
        # so is the fine-tuning control of STF's CPU-budget protocol.
        if '/csre/' in path or 'csre' in name or 'frhead' in name:
            continue
        if '/stf/' in path or name.startswith('stgcn-small-ft_'):
            continue
        # Self-supervised pre-training (CP-STN) is no supervised baseline.
        if name.startswith(('cpstn_', 'cpstn-small_')):
            continue
        # Its evaluation protocols: test_cpstn_eval_configs.py.
        if name.startswith('cpstn-'):
            continue
        # STF's own method (MS-G3D baseline + STF-GCN), not a CSRE table.
        if '/stfgcn/' in path:
            continue
        model, rest = name.split('_', 1)
        # MODEL-csre_REST, or a named regime of it (MODEL-csre-official_REST)
        variants = {
            n
            for n in names if n.startswith(model + '-csre')
            and n.endswith('_' + rest) and n.count('_') == name.count('_')
        }
        assert variants, name


@pytest.mark.parametrize('path', CONFIGS, ids=_ids(CONFIGS))
def test_config_builds_and_trains_one_step(path, tmp_path):
    from mmaction.registry import DATASETS, MODELS
    cfg = Config.fromfile(path)
    assert cfg.custom_imports == dict(
        imports=['mmcsre'], allow_failed_imports=False)
    assert cfg.default_scope == 'mmaction'
    init_default_scope('mmaction')

    ds_cfg = _unwrap(cfg.train_dataloader.dataset).copy()
    if ds_cfg.type == 'SkeletonDataset':
        ann = str(tmp_path / 'fake.pkl')
        _fake_pickle(ann, ds_cfg, ds_cfg.num_classes,
                     cfg.val_dataloader.dataset.split)
        ds_cfg.ann_file = ann
        val_cfg = cfg.val_dataloader.dataset.copy()
        val_cfg.ann_file = ann
        assert len(DATASETS.build(val_cfg)) == 1
    else:
        ds_cfg.train_per_class = 1
    dataset = DATASETS.build(ds_cfg)
    model = MODELS.build(cfg.model)
    for bank in [
            m for m in model.modules() if isinstance(m, ContrastiveMemoryBank)
    ]:
        bank.allocate(len(dataset))
    batch = pseudo_collate([dataset[i] for i in range(2)])
    if has_lazy_params(model):
        MemoryBankInitHook.init_lazy_layers(model, dataset)
    model.init_weights()
    data = model.data_preprocessor(batch, training=True)
    losses = model(**data, mode='loss')
    loss = sum(v for k, v in losses.items() if 'loss' in k)
    assert torch.isfinite(loss)
    loss.backward()
    # DDP (tools/dist_train.sh) with find_unused_parameters=False needs a
    # gradient for every trainable parameter at every step
    if not cfg.get('find_unused_parameters', False):
        unused = [
            n for n, p in model.named_parameters()
            if p.requires_grad and p.grad is None
        ]
        assert not unused, (f'{len(unused)} parameters get no gradient '
                            f'(set find_unused_parameters=True): {unused[:5]}')
    assert cfg.model.cls_head.num_classes == ds_cfg.get(
        'num_classes', cfg.model.cls_head.num_classes)


# Each family's original recipe, which the CSRE paper keeps (csre.txt Sec.
# 4.2; sources in each schedule and config): (lr, weight decay, epochs, lr
# steps, batch, times the training set repeats per epoch).
CTRGCN_NTU = (0.1, 4e-4, 65, [35, 55], 64, 1)
RECIPES = {
    # ST-GCN and 2s-AGCN upgraded to CTR-GCN's NTU recipe, also on NW-UCLA.
    'stgcn':
    dict(ntu=CTRGCN_NTU, nwucla=(0.1, 4e-4, 65, [35, 55], 16, 1)),
    '2s-agcn':
    dict(ntu=CTRGCN_NTU, nwucla=(0.1, 4e-4, 65, [35, 55], 16, 1)),
    # Uason-Chen/CTR-GCN config/ucla/default.yaml.
    'ctrgcn':
    dict(ntu=CTRGCN_NTU, nwucla=(0.1, 1e-4, 65, [50], 16, 5)),
    'blockgcn':
    dict(
        ntu=(0.05, 4e-4, 140, [110, 120], 64, 1),
        nwucla=(0.025, 0., 140, [110, 120], 16, 5)),
    'hyperformer':
    dict(
        ntu=(0.025, 4e-4, 140, [110, 120], 64, 1),
        nwucla=(0.025, 0., 150, [110, 120], 16, 5)),
    'infogcn':
    dict(
        ntu=(0.1, 5e-4, 110, [90, 100], 128, 1),
        nwucla=(0.1, 5e-4, 110, [90, 100], 16, 5)),
}


def _family(path):
    name = osp.basename(path)
    for family in RECIPES:
        if name.startswith(family + '_') or name.startswith(family + '-'):
            return family
    raise KeyError(f'no recipe known for {name}')


@pytest.mark.parametrize('path', PAPER_CONFIGS, ids=_ids(PAPER_CONFIGS))
def test_paper_recipe(path):
    """Each backbone's original recipe, as csre.txt Section 4.2 says."""
    cfg = Config.fromfile(path)
    opt = cfg.optim_wrapper.optimizer
    nwucla = 'nwucla' in path
    lr, wd, epochs, milestones, batch, repeat = RECIPES[_family(
        path)]['nwucla' if nwucla else 'ntu']
    assert (opt.type, opt.lr, opt.momentum, opt.weight_decay,
            opt.nesterov) == ('SGD', lr, 0.9, wd, True)
    assert cfg.train_cfg.max_epochs == epochs
    warmup, steps = cfg.param_scheduler
    assert warmup.type == 'LinearLR' and warmup.end == 5
    assert steps.milestones == milestones
    assert cfg.train_dataloader.batch_size == batch
    dataset = cfg.train_dataloader.dataset
    assert dataset.get('times', 1) == repeat
    train_ds = _unwrap(cfg.train_dataloader.dataset)
    clip = [
        t.clip_len for t in train_ds.pipeline
        if t.type in ('UniformSampleFrames', 'SortedResampleFrames')
    ]
    kinetics = 'kinetics400' in path  # STF's T=300 (stf.md)
    assert clip == [52 if nwucla else 300 if kinetics else 64]
    expected_classes = 10 if nwucla else 400 if kinetics else \
        120 if 'ntu120' in path else 60
    assert cfg.model.cls_head.num_classes == expected_classes
    assert train_ds.num_classes == expected_classes
