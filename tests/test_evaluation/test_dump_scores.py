import pickle

import numpy as np
import pytest
import torch
from mmaction.registry import METRICS
from mmaction.structures import ActionDataSample

from mmcsre.evaluation import SCORE_SPACES, DumpSkeletonScores

CLASSES = ('wave', 'punch', 'kick')


def scores_for(idx):
    rng = np.random.default_rng(idx)
    return rng.dirichlet(np.ones(3)).astype(np.float32)


def sample_v12(idx):
    """A data sample as mmaction2 >= 1.2 hands it to metrics."""
    return dict(
        frame_dir=f'vid{idx}',
        sample_idx=idx,
        pred_score=torch.from_numpy(scores_for(idx)),
        gt_label=torch.tensor([idx % 3]))


def sample_v11(idx):
    """A data sample as mmaction2 1.1 hands it to metrics."""
    return dict(
        frame_dir=f'vid{idx}',
        sample_idx=idx,
        pred_scores={'item': torch.from_numpy(scores_for(idx))},
        gt_labels={'item': torch.tensor([idx % 3])})


def load(path):
    with open(path, 'rb') as f:
        return pickle.load(f)


@pytest.mark.parametrize(
    'make', [sample_v12, sample_v11], ids=['mmaction-1.2', 'mmaction-1.1'])
def test_dump_rows_sorted_by_sample_idx(tmp_path, make):
    out_file = tmp_path / 'deep' / 'dir' / 'scores.pkl'
    metric = DumpSkeletonScores(out_file=str(out_file))
    metric.dataset_meta = dict(classes=CLASSES)
    # batches arrive out of order (e.g. gathered from several workers)
    metric.process(None, [make(i) for i in (4, 1)])
    metric.process(None, [make(i) for i in (0, 3, 2)])
    assert metric.evaluate(size=5) == {}

    dump = load(out_file)
    assert dump['frame_dir'] == [f'vid{i}' for i in range(5)]
    np.testing.assert_array_equal(dump['sample_idx'], np.arange(5))
    assert dump['scores'].shape == (5, 3)
    assert dump['scores'].dtype == np.float32
    np.testing.assert_allclose(dump['scores'],
                               np.stack([scores_for(i) for i in range(5)]))
    assert dump['labels'].dtype == np.int64
    np.testing.assert_array_equal(dump['labels'], [0, 1, 2, 0, 1])
    assert dump['score_space'] == 'prob'
    assert dump['classes'] == list(CLASSES)
    assert metric.results == []  # evaluate() resets the buffer


def test_real_action_data_sample(tmp_path):
    samples = []
    for idx in (1, 0):
        s = ActionDataSample()
        s.set_gt_labels(torch.tensor([2 - idx]))
        s.set_pred_score(torch.from_numpy(scores_for(idx)))
        s.set_metainfo(dict(frame_dir=f'vid{idx}', sample_idx=idx))
        samples.append(s.to_dict())
    out_file = tmp_path / 'real.pkl'
    metric = DumpSkeletonScores(out_file=str(out_file), score_space='logit')
    metric.process(None, samples)
    metric.evaluate(size=2)
    dump = load(out_file)
    assert dump['frame_dir'] == ['vid0', 'vid1']
    np.testing.assert_array_equal(dump['labels'], [2, 1])
    np.testing.assert_allclose(dump['scores'][1], scores_for(1))
    assert dump['score_space'] == 'logit'
    assert dump['classes'] is None  # no dataset_meta


def test_built_from_registry(tmp_path):
    metric = METRICS.build(
        dict(
            type='DumpSkeletonScores',
            out_file=str(tmp_path / 'm.pkl'),
            score_space='logit'))
    assert isinstance(metric, DumpSkeletonScores)
    assert metric.score_space == 'logit'
    assert SCORE_SPACES == ('prob', 'logit')


@pytest.mark.parametrize('space', ['softmax', 'probs', '', None])
def test_rejects_bad_score_space(tmp_path, space):
    with pytest.raises(ValueError, match='score_space must be one of'):
        DumpSkeletonScores(out_file=str(tmp_path / 'a.pkl'), score_space=space)


@pytest.mark.parametrize('name', ['scores.json', 'scores', 'scores.pkl.gz'])
def test_rejects_non_pkl_out_file(tmp_path, name):
    with pytest.raises(ValueError, match=r'out_file must end with \.pkl'):
        DumpSkeletonScores(out_file=str(tmp_path / name))


def test_one_dump_per_validation_with_placeholders(tmp_path):
    from mmengine.logging import MessageHub
    hub = MessageHub.get_instance('test_dump_placeholders')
    metric = DumpSkeletonScores(
        out_file=str(tmp_path / 'val' / 'iter_{iter}_epoch_{epoch}.pkl'))
    for last_iter in (63, 127):  # the hub holds the last iteration started
        hub.update_info('iter', last_iter)
        hub.update_info('epoch', 0)
        metric.process(None, [sample_v12(i) for i in range(3)])
        metric.evaluate(size=3)
    written = sorted(p.name for p in (tmp_path / 'val').iterdir())
    assert written == ['iter_128_epoch_1.pkl', 'iter_64_epoch_1.pkl']
    assert load(tmp_path / 'val' / 'iter_64_epoch_1.pkl')['scores'].shape \
        == (3, 3)
    plain = DumpSkeletonScores(out_file=str(tmp_path / 'plain.pkl'))
    assert plain.resolved_out_file() == str(tmp_path / 'plain.pkl')
