"""Parameters, buffers and FLOPs in training and at test time."""
import pytest
from analysis_helpers import SMALL_DATA, demo_configs

from mmcsre.analysis import AnalysisError, model_complexity


@pytest.fixture(scope='module')
def counts():
    base, csre = demo_configs()
    return (model_complexity(base, cfg_options=SMALL_DATA),
            model_complexity(csre, cfg_options=SMALL_DATA))


def test_csre_adds_nothing_at_test_time(counts):
    base, csre = counts
    assert base['training_only'] == []
    assert csre['training_only'] == ['cls_head.decompose.', 'cls_head.banks.']
    for key in ('params', 'buffers', 'flops'):
        assert csre[key]['test'] == base[key]['test'] > 0
    for key in ('params', 'buffers'):
        assert base[key]['train'] == base[key]['test']
    assert base['input_shape'] == [1, 1, 32, 25, 3]


def test_training_counts_the_csre_head_and_banks(counts):
    from mmaction.registry import MODELS
    from mmengine.config import Config
    base, csre = counts
    cfg = Config.fromfile(demo_configs()[1])
    head = MODELS.build(cfg.model.cls_head)
    decompose = sum(p.numel() for p in head.decompose.parameters())
    assert csre['params']['train'] - csre['params']['test'] == decompose
    # Two banks of L = 20 slots (the shrunk training set) x D = 256.
    slots, dim = 20, 256
    extra = csre['buffers']['train'] - csre['buffers']['test']
    assert 2 * slots * (dim + 2) <= extra < 2 * slots * (dim + 2) + 100
    # Each sample is compared with every slot of both banks.
    assert csre['flops']['train'] - base['flops']['train'] >= \
        2 * slots * dim + decompose


def test_input_shape_instead_of_data(counts):
    base_config, csre_config = demo_configs()
    shape = [1, 1, 32, 25, 3]
    base = model_complexity(base_config, input_shape=shape)
    assert base['flops']['test'] == counts[0]['flops']['test']
    assert base['params'] == counts[0]['params']
    with pytest.raises(AnalysisError, match='num_train_samples'):
        model_complexity(csre_config, input_shape=shape)
    csre = model_complexity(
        csre_config, input_shape=shape, num_train_samples=20)
    assert csre['buffers'] == counts[1]['buffers']
    with pytest.raises(AnalysisError, match=r'\(num_clips, M, T, V, C\)'):
        model_complexity(base_config, input_shape=[32, 25, 3])
