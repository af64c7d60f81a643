"""The Kinetics-skeleton base config (2D + score, 300 frames) builds and trains
a step, also in the visibility-channel variant its comment gives."""
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

CONFIG = osp.join(REPO_ROOT, 'configs', 'stgcn',
                  'stgcn_1xb64-joint-65e_kinetics400-skeleton-2d.py')


@pytest.fixture(autouse=True)
def one_thread():
    """One torch thread: several on a shared CPU are ~10x slower here."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def kinetics_pickle(path):
    """Converter-shaped samples: (M, T, 18, 2) x y and (M, T, 18) score."""
    rng = np.random.default_rng(0)
    annos = []
    for i, (num_person, num_frames) in enumerate([(2, 40), (1, 7), (2, 320),
                                                  (1, 1)]):
        score = rng.uniform(0, 1, (num_person, num_frames, 18))
        kp = rng.uniform(0, 1, (num_person, num_frames, 18, 2))
        kp[score < 0.2] = 0  # OpenPose misses
        annos.append(
            dict(
                frame_dir=f'v{i}',
                label=[0, 399, 17, 3][i],
                total_frames=num_frames,
                img_shape=(1, 1),
                original_shape=(256, 340),
                keypoint=kp.astype(np.float32),
                keypoint_score=score.astype(np.float32)))
    with open(path, 'wb') as f:
        pickle.dump(
            dict(
                split=dict(train=['v0', 'v1', 'v2'], val=['v3']),
                annotations=annos), f)
    return str(path)


def test_base_config_facts():
    cfg = Config.fromfile(CONFIG)
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        ds = loader.dataset
        assert (ds.layout, ds.num_classes) == ('openpose', 400)
        types = [t.type for t in ds.pipeline]
        assert types.index('PadByRepetition') + 1 == \
            types.index('UniformSampleFrames')
        assert {t.clip_len for t in ds.pipeline if 'clip_len' in t} == {300}
        assert ds.pipeline[types.index('FormatGCNInput')].num_person == 2
    assert (cfg.train_dataloader.dataset.split,
            cfg.val_dataloader.dataset.split) == ('train', 'val')
    pre = cfg.model.data_preprocessor
    assert (pre.layout, pre.num_coords) == ('openpose', 2)
    assert cfg.model.backbone.graph_cfg.layout == 'openpose'
    assert cfg.model.cls_head.num_classes == 400


def _visibility_variant(cfg):
    """The variant the base config's comment describes."""
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        pipeline = loader.dataset.pipeline
        pipeline.insert(1, dict(type='AddVisibilityChannel', score_thr=0.))
    cfg.model.backbone.in_channels = 4
    return cfg


@pytest.mark.parametrize('variant,channels', [(None, 3),
                                              (_visibility_variant, 4)])
def test_builds_and_trains_one_step(tmp_path, variant, channels):
    from mmaction.registry import DATASETS, MODELS
    cfg = Config.fromfile(CONFIG)
    if variant is not None:
        cfg = variant(cfg)
    init_default_scope('mmaction')
    ann = kinetics_pickle(tmp_path / 'k400.pkl')
    train_cfg = cfg.train_dataloader.dataset.copy()
    train_cfg.ann_file = ann
    val_cfg = cfg.val_dataloader.dataset.copy()
    val_cfg.ann_file = ann
    dataset = DATASETS.build(train_cfg)
    val_item = DATASETS.build(val_cfg)[0]  # a 1-frame sample
    assert tuple(val_item['inputs'].shape) == (1, 2, 300, 18, channels)

    items = [dataset[i] for i in range(3)]
    for item in items:  # 40, 7 and 320 frames all become 300
        assert tuple(item['inputs'].shape) == (1, 2, 300, 18, channels)
    # the 1-person sample: its second person is zero padding
    assert items[1]['inputs'][0, 1].abs().sum() == 0
    if channels == 4:  # (x, y, visibility, score)
        x = items[0]['inputs']
        np.testing.assert_array_equal(x[..., 2].numpy(), (x[..., 3]
                                                          > 0).float().numpy())
    # a small ST-GCN: the full one takes minutes on a shared CPU at T=300
    cfg.model.backbone.update(
        base_channels=16, num_stages=4, inflate_stages=[3], down_stages=[3])
    cfg.model.cls_head.in_channels = 32
    model = MODELS.build(cfg.model)
    model.init_weights()
    data = model.data_preprocessor(pseudo_collate(items[:2]), training=True)
    losses = model(**data, mode='loss')
    loss = sum(v for k, v in losses.items() if 'loss' in k)
    assert torch.isfinite(loss)
    loss.backward()
