"""Pooled backbone features of a model over a config's dataloader."""
import numpy as np
import pytest
import torch
from analysis_helpers import SMALL_DATA, demo_configs
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope

from mmcsre.analysis import (AnalysisError, extract_features, load_features,
                             save_features)
from mmcsre.analysis.features import pool_features


def _build(config, num_samples=None):
    from mmaction.registry import MODELS
    cfg = Config.fromfile(config)
    init_default_scope('mmaction')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    for module in model.modules():
        if hasattr(module, 'allocate') and num_samples:
            module.allocate(num_samples)  # memory banks, as in training
    return cfg, model.eval()


def _save(model, path):
    torch.save(dict(state_dict=model.state_dict()), str(path))
    return str(path)


def test_pooling_matches_gcn_head():
    from mmaction.models.heads import GCNHead
    head = GCNHead(num_classes=3, in_channels=8)
    feats = torch.randn(4, 2, 8, 5, 6)  # 2 samples x 2 clips, M = 2
    pooled = pool_features(feats, num_clips=2)
    assert pooled.shape == (2, 8)
    per_clip = head.pool(feats.view(8, 8, 5, 6)).view(4, 2, 8).mean(1)
    assert torch.allclose(pooled, per_clip.view(2, 2, 8).mean(1), atol=1e-6)


def test_features_reproduce_the_models_scores(tmp_path):
    from mmaction.registry import DATASETS
    config = demo_configs()[0]
    cfg, model = _build(config)
    ckpt = _save(model, tmp_path / 'model.pth')
    out = extract_features(
        config, ckpt, 'test', 'cpu', SMALL_DATA, progress=False)
    assert out['feats'].shape == (20, 32) and out['feats'].dtype == np.float32
    assert sorted(out['labels'].tolist()) == sorted(list(range(10)) * 2)
    assert len(set(out['frame_dir'].tolist())) == 20
    assert len(out['classes']) == 10

    # The classifier on the saved features gives the model's own scores.
    cfg.merge_from_dict(SMALL_DATA)
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    with torch.no_grad():
        data = model.data_preprocessor(
            pseudo_collate([dataset[i] for i in range(3)]), False)
        logits, _ = model.extract_feat(data['inputs'], stage='head')
    ids = [s.metainfo['frame_dir'] for s in data['data_samples']]
    rows = [out['frame_dir'].tolist().index(i) for i in ids]
    from_feats = model.cls_head.fc(torch.from_numpy(out['feats'][rows]))
    assert torch.allclose(from_feats, logits.view(3, -1), atol=1e-5)


def test_training_only_parts_may_be_missing_nothing_else(tmp_path):
    base_config, csre_config = demo_configs()
    _, csre = _build(csre_config, num_samples=20)
    full = _save(csre, tmp_path / 'csre.pth')
    assert len(
        extract_features(csre_config, full, 'test', 'cpu', SMALL_DATA,
                         False)['feats']) == 20
    stripped = {
        k: v
        for k, v in csre.state_dict().items()
        if not k.startswith(('cls_head.banks', 'cls_head.decompose'))
    }
    torch.save(dict(state_dict=stripped), str(tmp_path / 'stripped.pth'))
    extract_features(csre_config, str(tmp_path / 'stripped.pth'), 'test',
                     'cpu', SMALL_DATA, False)

    _, base = _build(base_config)
    state = base.state_dict()
    del state['cls_head.fc.weight']
    torch.save(dict(state_dict=state), str(tmp_path / 'partial.pth'))
    with pytest.raises(AnalysisError, match='missing'):
        extract_features(base_config, str(tmp_path / 'partial.pth'), 'test',
                         'cpu', SMALL_DATA, False)
    options = dict(SMALL_DATA, **{'model.cls_head.num_classes': 5})
    with pytest.raises(AnalysisError, match='does not fit'):
        extract_features(base_config, full, 'test', 'cpu', options, False)


def test_feature_files_round_trip_and_are_checked(tmp_path):
    feats = dict(
        feats=np.ones((3, 4), np.float32),
        labels=np.array([0, 1, 1]),
        frame_dir=np.array(['a', 'b', 'c']),
        classes=np.array(['x', 'y']))
    save_features(str(tmp_path / 'f.npz'), feats)
    loaded = load_features(str(tmp_path / 'f.npz'))
    assert all(np.array_equal(loaded[k], v) for k, v in feats.items())
    np.savez(
        str(tmp_path / 'bad.npz'),
        feats=np.ones((3, 4)),
        labels=np.zeros(2),
        frame_dir=np.array(['a', 'b', 'c']))
    with pytest.raises(AnalysisError, match='do not match'):
        load_features(str(tmp_path / 'bad.npz'))
    np.savez(str(tmp_path / 'other.npz'), x=np.ones(2))
    with pytest.raises(AnalysisError, match='missing'):
        load_features(str(tmp_path / 'other.npz'))
    with pytest.raises(AnalysisError, match='no such file'):
        load_features(str(tmp_path / 'none.npz'))
