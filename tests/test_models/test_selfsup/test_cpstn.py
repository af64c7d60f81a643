"""CPSTN: decoder shapes, the three losses, a Runner training step and
loading its encoder into the supervised ST-GCN config."""
import copy
import os.path as osp

import numpy as np
import pytest
import torch
from helpers import REPO_ROOT
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

import mmcsre  # noqa: F401
from mmcsre.structures import get_layout


def _tiny(layout='nw-ucla'):
    """A tiny CP-STN on ``layout``: 3-unit encoder, 2-unit decoders."""
    graph = dict(layout=get_layout(layout).graph_cfg(), mode='stgcn_spatial')
    return dict(
        type='CPSTN',
        backbone=dict(
            type='STGCN',
            graph_cfg=graph,
            base_channels=8,
            num_stages=3,
            inflate_stages=[3],
            down_stages=[3],
            gcn_adaptive=None),
        feat_channels=16,
        decoder=dict(
            type='STGCNDecoder', graph_cfg=graph, num_units=2, dropout=0.2),
        proj_channels=8,
        data_preprocessor=dict(type='SkeletonDataPreprocessor', layout=layout))


GRAPH = dict(layout=get_layout('nw-ucla').graph_cfg(), mode='stgcn_spatial')
TINY = _tiny()
SMALL_CONFIG = osp.join(REPO_ROOT, 'configs', 'cpstn',
                        'cpstn-small_1xb64-joint-15e_nwucla-keypoint-3d.py')
STGCN_SMALL_CONFIG = osp.join(
    REPO_ROOT, 'configs', 'stgcn',
    'stgcn-small_1xb16-joint-30e_nwucla-keypoint-3d.py')


@pytest.fixture(autouse=True)
def _scope():
    init_default_scope('mmaction')
    torch.manual_seed(0)


def _views(n=4, num_frames=12, keep=6):
    original = torch.randn(n, 1, num_frames, 20, 3)
    spatial = original + 0.1 * torch.randn_like(original)
    temporal = original.clone()
    temporal[:, :, keep:] = 0
    mask = np.arange(num_frames) < keep
    samples = [
        ActionDataSample(metainfo=dict(temporal_mask=mask)) for _ in range(n)
    ]
    return torch.stack([original, spatial, temporal], 1), samples


def test_decoder_upsamples_to_input_space():
    decoder = MODELS.build(
        dict(type='STGCNDecoder', in_channels=8, graph_cfg=GRAPH))
    assert len(decoder.units) == 5 and decoder.drop.p == 0.2
    for unit in decoder.units:  # fixed physical adjacency only
        assert unit.gcn.adaptive is None
        assert 'A' not in dict(unit.gcn.named_parameters())
    out = decoder(torch.randn(2, 1, 8, 3, 20), num_frames=12, num_joints=20)
    assert out.shape == (2, 1, 12, 20, 3)


def test_losses_split_channels_and_mask_temporal_target():
    model = MODELS.build(TINY)
    model.eval()  # no dropout: losses are deterministic
    inputs, samples = _views()
    seen = {}
    model.backbone.register_forward_hook(
        lambda m, i, o: seen.__setitem__('feats', o))
    for name in ('spatial_decoder', 'temporal_decoder'):
        getattr(model, name).register_forward_hook(
            lambda m, i, o, name=name: seen.__setitem__(name, (i[0], o)))
    losses = model(inputs, samples, mode='loss')
    assert set(losses) == {'loss_contrastive', 'loss_spatial', 'loss_temporal'}
    feats = seen['feats']  # (2N, M, C', T', V): spatial then temporal views
    assert feats.shape == (8, 1, 16, 6, 20)
    assert torch.equal(seen['spatial_decoder'][0], feats[:4, :, :8])
    assert torch.equal(seen['temporal_decoder'][0], feats[4:, :, 8:])
    rec_s, rec_t = seen['spatial_decoder'][1], seen['temporal_decoder'][1]
    original = inputs[:, 0]
    assert rec_s.shape == original.shape == rec_t.shape
    assert losses['loss_spatial'].item() == pytest.approx(
        ((rec_s - original)**2).mean().item(), rel=1e-5)
    assert losses['loss_temporal'].item() == pytest.approx(
        ((rec_t - original)[:, :, 6:]**2).mean().item(), rel=1e-5)

    # The original is only a target: changing it on the kept frames moves
    # L_s but not L_t (Eq. 7 sums over the masked frames only).
    changed = inputs.clone()
    changed[:, 0, :, :6] += 1
    again = model(changed, samples, mode='loss')
    assert again['loss_temporal'].item() == pytest.approx(
        losses['loss_temporal'].item(), rel=1e-6)
    assert again['loss_spatial'] > losses['loss_spatial']
    changed[:, 0, :, 6:] += 1
    assert model(changed, samples, mode='loss')['loss_temporal'] > \
        losses['loss_temporal']
    # Without temporal_mask in the samples the all-zero frames are masked.
    fallback = model(inputs, None, mode='loss')
    assert fallback['loss_temporal'].item() == pytest.approx(
        losses['loss_temporal'].item(), rel=1e-6)


def test_weights_and_feature_extraction():
    cfg = dict(TINY, alpha=2.0, beta=0.0, gamma=0.5)
    model = MODELS.build(cfg)
    model.eval()
    inputs, samples = _views()
    ref = MODELS.build(TINY)
    ref.load_state_dict(model.state_dict())
    ref.eval()
    losses, base = model(inputs, samples, 'loss'), ref(inputs, samples, 'loss')
    assert losses['loss_contrastive'].item() == pytest.approx(
        2 * base['loss_contrastive'].item(), rel=1e-5)
    assert losses['loss_spatial'].item() == 0
    assert losses['loss_temporal'].item() == pytest.approx(
        0.5 * base['loss_temporal'].item(), rel=1e-5)
    h = model(inputs[:, :1], mode='tensor')
    assert h.shape == (4, 16)
    expected = model.backbone(inputs[:, 0]).mean(dim=(1, 3, 4))
    torch.testing.assert_close(h, expected)
    out = model(inputs[:, :1], copy.deepcopy(samples), mode='predict')
    torch.testing.assert_close(out[2].feature, h[2])
    with pytest.raises(ValueError, match='TwoViewSkeleton'):
        model(inputs[:, :2], samples, mode='loss')


def _train_cfg(work_dir):
    pipeline = [
        dict(type='SkeletonPreNormalize', layout='nturgb+d'),
        dict(type='UniformSampleFrames', clip_len=12),
        dict(type='PoseDecode'),
        dict(
            type='TwoViewSkeleton',
            spatial_pipeline=[
                dict(type='RandomRotation3D'),
                dict(type='RandomShear'),
                dict(type='RandomJointJitter')
            ],
            temporal_pipeline=[dict(type='TemporalMaskTail')]),
        dict(type='FormatGCNInput', num_person=1),
        dict(
            type='PackActionInputs',
            meta_keys=('frame_dir', 'sample_idx', 'temporal_mask'))
    ]
    return Config(
        dict(
            default_scope='mmaction',
            work_dir=str(work_dir),
            model=_tiny('nturgb+d'),
            train_dataloader=dict(
                batch_size=4,
                num_workers=0,
                sampler=dict(type='DefaultSampler', shuffle=True),
                dataset=dict(
                    type='SyntheticSkeletonDataset',
                    split='train',
                    num_classes=2,
                    train_per_class=4,
                    val_per_class=1,
                    pipeline=pipeline)),
            train_cfg=dict(type='IterBasedTrainLoop', max_iters=2),
            optim_wrapper=dict(optimizer=dict(type='Adam', lr=1e-3)),
            default_hooks=dict(
                logger=dict(type='LoggerHook', interval=1),
                checkpoint=dict(
                    type='CheckpointHook', interval=2, by_epoch=False)),
            randomness=dict(seed=0),
            log_level='WARNING'))


def test_runner_trains_a_step_on_synthetic_data(tmp_path):
    runner = Runner.from_cfg(_train_cfg(tmp_path))
    before = {
        k: v.clone()
        for k, v in runner.model.state_dict().items() if 'backbone' in k
    }
    runner.train()
    after = runner.model.state_dict()
    assert any(not torch.equal(v, after[k]) for k, v in before.items())
    logs = runner.message_hub.log_scalars
    for key in ('loss_contrastive', 'loss_spatial', 'loss_temporal'):
        assert np.isfinite(logs[f'train/{key}'].current())
    assert osp.isfile(tmp_path / 'iter_2.pth')


def test_checkpoint_backbone_loads_into_stgcn_small(tmp_path):
    """The small pre-training config's encoder is the supervised stgcn-small
    backbone: its backbone.* weights load exactly; only the edge-importance
    weights (kept at 1) are missing, the pretext modules are unexpected."""
    cfg = Config.fromfile(SMALL_CONFIG)
    cpstn = MODELS.build(cfg.model)
    for p in cpstn.parameters():  # make every weight distinguishable
        p.data.normal_()
    ckpt = str(tmp_path / 'cpstn.pth')
    torch.save({'state_dict': cpstn.state_dict(), 'meta': {}}, ckpt)

    sup = Config.fromfile(STGCN_SMALL_CONFIG)
    sup.work_dir = str(tmp_path / 'sup')
    sup.load_from = ckpt
    sup.log_level = 'WARNING'
    runner = Runner.from_cfg(sup)
    runner.load_or_resume()
    loaded = runner.model.backbone.state_dict()
    source = cpstn.backbone.state_dict()
    assert set(source) <= set(loaded)
    for key, value in source.items():
        assert torch.equal(loaded[key], value), key
    missing = set(loaded) - set(source)
    assert missing and all(k.endswith('gcn.PA') for k in missing)
    for key in missing:
        assert torch.equal(loaded[key], torch.ones_like(loaded[key]))
