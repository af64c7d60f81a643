"""k-NN evaluation: vectorised votes against a naive reference, backbone-only
checkpoint loading and tools/analysis/knn_eval.py end to end."""
import csv
import pickle

import numpy as np
import pytest
import torch
from helpers import REPO_ROOT
from mmaction.registry import MODELS
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmcsre.analysis.errors import AnalysisError
from mmcsre.evaluation import knn_accuracy, knn_predict, knn_scores
from mmcsre.evaluation.backbone_features import (load_backbone_weights,
                                                 split_loader_cfg)

TOOL = f'{REPO_ROOT}/tools/analysis/knn_eval.py'
CONFIG = (f'{REPO_ROOT}/configs/cpstn/'
          'cpstn-small-linear_1xb64-joint-30e_nwucla-keypoint-3d.py')


def naive_knn(train, train_labels, query, k, num_classes, vote, t):
    """One query at a time, one neighbour at a time."""
    preds = []
    for q in query:
        sims = []
        for x in train:
            sims.append(float(q @ x / (q.norm() * x.norm())))
        order = sorted(range(len(sims)), key=lambda i: -sims[i])[:k]
        votes = [0.0] * num_classes
        for i in order:
            w = np.exp(sims[i] / t) if vote == 'weighted' else 1.0
            votes[int(train_labels[i])] += w
        best = max(votes)
        preds.append(min(c for c in range(num_classes) if votes[c] == best))
    return preds


@pytest.mark.parametrize('vote', ['weighted', 'majority'])
@pytest.mark.parametrize('k', [1, 4, 25])
def test_knn_matches_naive_reference(vote, k):
    gen = torch.Generator().manual_seed(k)
    train = torch.randn(60, 8, generator=gen, dtype=torch.float64)
    labels = torch.randint(0, 5, (60, ), generator=gen)
    query = torch.randn(23, 8, generator=gen, dtype=torch.float64)
    expected = naive_knn(train, labels, query, k, 5, vote, 0.1)
    # Chunks smaller than, dividing and exceeding the query set agree.
    for chunk in (4, 23, 1000):
        pred = knn_predict(
            train,
            labels,
            query,
            k,
            5,
            vote=vote,
            temperature=0.1,
            chunk_size=chunk)
        assert pred.tolist() == expected


def test_ties_go_to_the_lowest_class_and_several_k_at_once():
    train = torch.tensor([[1., 0.], [0.9, 0.1], [0., 1.], [0.1, 0.9]])
    labels = torch.tensor([3, 1, 2, 0])
    query = torch.tensor([[1., 0.02]])
    scores = knn_scores(train, labels, query, [1, 2, 4], 4, 'majority')
    assert scores[1].tolist() == [[0, 0, 0, 1]]
    assert knn_predict(train, labels, query, 2, 4, 'majority').item() == 1
    assert knn_predict(train, labels, query, 4, 4, 'majority').item() == 0
    acc = knn_accuracy(
        train, labels, query, torch.tensor([3]), ks=[1, 2], vote='majority')
    assert acc == {1: 1.0, 2: 0.0}


def test_knn_rejects_bad_arguments():
    train, labels = torch.randn(5, 3), torch.arange(5)
    with pytest.raises(ValueError, match='k must lie'):
        knn_scores(train, labels, train, [6], 5)
    with pytest.raises(ValueError, match='vote'):
        knn_scores(train, labels, train, [1], 5, vote='mean')
    with pytest.raises(ValueError, match='labels'):
        knn_scores(train, labels[:4], train, [1], 5)


def _small_model_and_checkpoint(tmp_path):
    init_default_scope('mmaction')
    cfg = Config.fromfile(CONFIG)
    model = MODELS.build(cfg.model)
    torch.manual_seed(0)
    source = MODELS.build(cfg.model.backbone.backbone)
    state = {'backbone.' + k: v for k, v in source.state_dict().items()}
    state['decoder.temporal.weight'] = torch.zeros(2)  # CP-STN-only key
    state['cls_head.fc.weight'] = torch.zeros(3, 3)  # a mismatched head
    ckpt = tmp_path / 'pretrain.pth'
    torch.save(dict(state_dict=state), ckpt)
    return cfg, model, source, ckpt


def test_backbone_only_loading(tmp_path):
    cfg, model, source, ckpt = _small_model_and_checkpoint(tmp_path)
    assert load_backbone_weights(model, str(ckpt)) == len(source.state_dict())
    for k, v in source.state_dict().items():
        assert torch.equal(model.backbone.state_dict()[k], v)
    state = torch.load(ckpt)['state_dict']
    state.pop('backbone.data_bn.weight')
    torch.save(state, tmp_path / 'partial.pth')
    with pytest.raises(AnalysisError, match='data_bn.weight'):
        load_backbone_weights(model, str(tmp_path / 'partial.pth'))
    torch.save({'cls_head.fc.weight': torch.zeros(1)}, tmp_path / 'head.pth')
    with pytest.raises(AnalysisError, match="no 'backbone.' keys"):
        load_backbone_weights(model, str(tmp_path / 'head.pth'))


def test_train_features_use_the_test_pipeline_on_the_train_split():
    cfg = Config.fromfile(CONFIG)
    val_split = cfg.val_dataloader.dataset.split
    assert val_split != cfg.train_dataloader.dataset.split
    train = split_loader_cfg(cfg, 'train')
    assert train.dataset.split == cfg.train_dataloader.dataset.split
    assert train.dataset.pipeline == cfg.val_dataloader.dataset.pipeline
    assert train.sampler.shuffle is False
    # Building the training loader leaves the config's val loader alone.
    assert cfg.val_dataloader.dataset.split == val_split
    assert split_loader_cfg(cfg, 'val').dataset.split == val_split


def test_knn_eval_tool(tmp_path):
    """Validation clips that copy training clips are their own nearest
    neighbours: 1-NN is 100 % whatever the (random) encoder."""
    _, _, _, ckpt = _small_model_and_checkpoint(tmp_path)
    rng = np.random.default_rng(0)
    annos, split = [], dict(train=[], val=[])
    for i in range(12):
        kp = rng.normal(size=(1, int(rng.integers(10, 40)), 20, 3))
        for name in ('train', 'val'):
            annos.append(
                dict(
                    frame_dir=f'{name}{i}',
                    label=i % 4,
                    keypoint=kp.astype(np.float32)))
            split[name].append(f'{name}{i}')
    ann = tmp_path / 'fake.pkl'
    with open(ann, 'wb') as f:
        pickle.dump(dict(split=split, annotations=annos), f)

    import importlib.util
    spec = importlib.util.spec_from_file_location('knn_eval', TOOL)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    out = tmp_path / 'out'
    tool.main([
        CONFIG,
        str(ckpt), '--k', '1', '3', '--vote', 'majority', '--device', 'cpu',
        '--out-dir',
        str(out), '--cfg-options', f'train_dataloader.dataset.ann_file={ann}',
        f'val_dataloader.dataset.ann_file={ann}',
        'val_dataloader.batch_size=5', 'val_dataloader.num_workers=0',
        'val_dataloader.persistent_workers=0'
    ])
    with open(out / 'knn.csv') as f:
        rows = list(csv.DictReader(f))
    assert [(r['k'], r['vote']) for r in rows] == [('1', 'majority'),
                                                   ('3', 'majority')]
    assert float(rows[0]['top1']) == 100.0
    assert 'train: 12 samples, val: 12 samples, 128-d' in \
        (out / 'knn.md').read_text()
    # The plot of top-1 per k: a PNG with the bars drawn, not an empty
    # canvas.
    png = (out / 'knn.png').read_bytes()
    assert png[:8] == b'\x89PNG\r\n\x1a\n'
    assert 10_000 < len(png) < 300_000
