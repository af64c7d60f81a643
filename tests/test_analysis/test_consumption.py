"""Training consumption measured on real training iterations."""
import pytest
from analysis_helpers import demo_configs

from mmcsre.analysis import (AnalysisError, measure_in_subprocess,
                             measure_training)

# 20 training samples, batch 16: 2 iterations per epoch.
DATA = {
    'train_dataloader.dataset.train_per_class': 2,
    'val_dataloader.dataset.val_per_class': 1,
    'test_dataloader.dataset.val_per_class': 1,
}


def test_csre_training_is_timed_across_epochs_in_a_fresh_process():
    res = measure_in_subprocess(
        demo_configs()[1], iters=2, warmup=1, cfg_options=DATA, progress=False)
    assert res['iters'] == 2 and res['warmup'] == 1
    assert res['iters_per_epoch'] == 2 and res['batch_size'] == 16
    assert res['time_per_epoch'] == pytest.approx(2 * res['time_per_iter'])
    assert 0 < res['step_time_per_iter'] <= res['time_per_iter']
    assert res['device'] == 'cpu'
    assert res['memory_kind'] == 'peak host RSS of the training process'
    assert res['peak_memory'] > 100 * 2**20


def test_too_short_schedule_is_an_error():
    options = dict(DATA, **{'train_cfg.max_epochs': 1})
    with pytest.raises(AnalysisError, match='ended after 2 iterations'):
        measure_training(
            demo_configs()[0],
            iters=2,
            warmup=1,
            cfg_options=options,
            progress=False)
    with pytest.raises(AnalysisError, match='iters >= 1'):
        measure_training(demo_configs()[0], iters=0)
