"""The CP-STN pre-training configs: recipe (cp-stn.txt Sec.

4.1.4) and one
training step each on a fake pickle of their dataset.
"""
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
from mmcsre.structures import get_layout

# The pre-training configs (the evaluation configs have other prefixes).
CONFIGS = sorted(
    glob.glob(osp.join(REPO_ROOT, 'configs', 'cpstn', 'cpstn_*.py')) +
    glob.glob(osp.join(REPO_ROOT, 'configs', 'cpstn', 'cpstn-small_*.py')))
JOINT = [
    p for p in CONFIGS
    if '-joint-' in osp.basename(p) and '-joint-motion-' not in osp.basename(p)
]
# One training step each: both datasets at full size and the small config
# with one of its generated stream children (the other NTU configs differ
# from ntu60-xsub only in split and file, checked by test_recipe; stream
# children only in the stream, checked by test_stream_configs.py).
STEP = [
    p for p in CONFIGS if osp.basename(p) in (
        'cpstn_1xb64-joint-100e_nwucla-keypoint-3d.py',
        'cpstn_1xb256-joint-100e_ntu60-xsub-keypoint-3d.py',
        'cpstn-small_1xb64-joint-15e_nwucla-keypoint-3d.py',
        'cpstn-small_1xb64-bone-motion-15e_nwucla-keypoint-3d.py')
]


def _ids(paths):
    return [osp.basename(p) for p in paths]


def _pipeline_step(pipeline, name):
    return [t for t in pipeline if t.type == name]


def test_configs_found():
    assert len(STEP) == 4
    names = {osp.basename(p) for p in JOINT}
    assert names == {
        'cpstn_1xb64-joint-100e_nwucla-keypoint-3d.py',
        'cpstn-small_1xb64-joint-15e_nwucla-keypoint-3d.py',
        'cpstn_1xb256-joint-100e_ntu60-xsub-keypoint-3d.py',
        'cpstn_1xb256-joint-100e_ntu60-xview-keypoint-3d.py',
        'cpstn_1xb256-joint-100e_ntu120-xsub-keypoint-3d.py',
        'cpstn_1xb256-joint-100e_ntu120-xset-keypoint-3d.py',
    }


@pytest.mark.parametrize('path', JOINT, ids=_ids(JOINT))
def test_recipe(path):
    cfg = Config.fromfile(path)
    name = osp.basename(path)
    nwucla, small = 'nwucla' in name, name.startswith('cpstn-small')
    # The CPU budget has 225 steps, too few for the paper's lr 5e-5.
    assert cfg.optim_wrapper.optimizer == dict(
        type='Adam', lr=1e-3 if small else 5e-5)
    epochs = 15 if small else 100  # the CPU-budget run is shorter
    (sched, ) = cfg.param_scheduler
    assert (sched.type, sched.power, sched.eta_min) == ('PolyLR', 1.0, 0.0)
    assert sched.end == cfg.train_cfg.max_epochs == epochs
    assert cfg.train_dataloader.batch_size == (64 if nwucla else 256)
    assert cfg.val_dataloader is None and cfg.val_cfg is None
    pipeline = cfg.train_dataloader.dataset.pipeline
    (sample, ) = _pipeline_step(pipeline, 'UniformSampleFrames')
    assert sample.clip_len == (52 if small else 200)
    (views, ) = _pipeline_step(pipeline, 'TwoViewSkeleton')
    assert [t.type for t in views.spatial_pipeline
            ] == ['RandomRotation3D', 'RandomShear', 'RandomJointJitter']
    assert [t.type for t in views.temporal_pipeline] == ['TemporalMaskTail']
    (pack, ) = _pipeline_step(pipeline, 'PackActionInputs')
    assert 'temporal_mask' in pack.meta_keys
    backbone = cfg.model.backbone
    assert backbone.type == 'STGCN' and backbone.num_stages == 6
    assert backbone.gcn_adaptive is None
    assert backbone.base_channels == (32 if small else 64)
    assert cfg.model.feat_channels == backbone.base_channels * 4
    assert cfg.model.decoder.num_units == 5
    assert cfg.model.decoder.dropout == 0.2
    assert cfg.model.decoder.get('hidden_channels') == (32 if small else None)
    assert cfg.model.alpha == cfg.model.beta == cfg.model.gamma == 1.0


def _fake_pickle(path, layout, split):
    rng = np.random.default_rng(0)
    annos = [
        dict(
            frame_dir=f's{i}',
            label=0,
            total_frames=t,
            keypoint=rng.normal(size=(1 + i % 2, t, layout.num_node,
                                      3)).astype(np.float32))
        for i, t in enumerate([1, 20, 80])
    ]
    with open(path, 'wb') as f:
        pickle.dump(
            dict(split={split: ['s0', 's1', 's2']}, annotations=annos), f)


@pytest.mark.parametrize('path', STEP, ids=_ids(STEP))
def test_config_trains_one_step(path, tmp_path):
    """The config builds and takes a step; clips are shortened to 16 frames to
    keep this fast."""
    from mmaction.registry import DATASETS, MODELS
    cfg = Config.fromfile(path)
    init_default_scope(cfg.default_scope)
    ds_cfg = cfg.train_dataloader.dataset.copy()
    ds_cfg.ann_file = str(tmp_path / 'fake.pkl')
    _fake_pickle(ds_cfg.ann_file, get_layout(ds_cfg.layout), ds_cfg.split)
    _pipeline_step(ds_cfg.pipeline, 'UniformSampleFrames')[0].clip_len = 16
    dataset = DATASETS.build(ds_cfg)
    model = MODELS.build(cfg.model)
    model.init_weights()
    batch = pseudo_collate([dataset[i] for i in range(3)])
    data = model.data_preprocessor(batch, training=True)
    assert data['inputs'].shape[:4] == (3, 3, 2 if 'ntu' in path else 1, 16)
    losses = model(**data, mode='loss')
    assert set(losses) == {'loss_contrastive', 'loss_spatial', 'loss_temporal'}
    loss = sum(losses.values())
    assert torch.isfinite(loss)
    loss.backward()
