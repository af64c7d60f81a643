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

CONFIGS = sorted(
    p for p in glob.glob(
        osp.join(REPO_ROOT, 'configs', '**', '*.py'), recursive=True)
    if '_base_' not in p)
# Full paper recipes (not the demo and CPU-budget variants).
PAPER_CONFIGS = [
    p for p in CONFIGS if 'synthetic' not in p and '-small' not in p
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


def test_configs_found():
    assert len(CONFIGS) >= 24


def test_every_baseline_has_a_csre_variant():
    names = {osp.basename(p) for p in CONFIGS}
    for path in CONFIGS:
        name = osp.basename(path)
        if '/csre/' in path or 'csre' in name:
            continue
        model = name.split('_')[0]
        assert name.replace(model + '_', model + '-csre_') in names, name


@pytest.mark.parametrize('path', CONFIGS, ids=_ids(CONFIGS))
def test_config_builds_and_trains_one_step(path, tmp_path):
    from mmaction.registry import DATASETS, MODELS
    cfg = Config.fromfile(path)
    assert cfg.custom_imports == dict(
        imports=['mmcsre'], allow_failed_imports=False)
    assert cfg.default_scope == 'mmaction'
    init_default_scope('mmaction')

    ds_cfg = cfg.train_dataloader.dataset.copy()
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
    assert cfg.model.cls_head.num_classes == ds_cfg.get(
        'num_classes', cfg.model.cls_head.num_classes)


@pytest.mark.parametrize('path', PAPER_CONFIGS, ids=_ids(PAPER_CONFIGS))
def test_paper_recipe(path):
    """csre.txt Sec. 4.2 / fr-head.md Sec. 4.2 recipe."""
    cfg = Config.fromfile(path)
    opt = cfg.optim_wrapper.optimizer
    assert (opt.type, opt.lr, opt.momentum, opt.weight_decay,
            opt.nesterov) == ('SGD', 0.1, 0.9, 4e-4, True)
    assert cfg.train_cfg.max_epochs == 65
    warmup, steps = cfg.param_scheduler
    assert warmup.type == 'LinearLR' and warmup.end == 5
    assert steps.milestones == [35, 55]
    nwucla = 'nwucla' in path
    assert cfg.train_dataloader.batch_size == (16 if nwucla else 64)
    clip = [
        t.clip_len for t in cfg.train_dataloader.dataset.pipeline
        if t.type == 'UniformSampleFrames'
    ]
    assert clip == [52 if nwucla else 64]
    expected_classes = 10 if nwucla else 120 if 'ntu120' in path else 60
    assert cfg.model.cls_head.num_classes == expected_classes
    assert cfg.train_dataloader.dataset.num_classes == expected_classes
