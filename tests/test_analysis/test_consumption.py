"""Training consumption measured on real training iterations."""
import pytest
from analysis_helpers import demo_configs

from mmcsre.analysis import (AnalysisError, measure_in_subprocess,
                             measure_training)
from mmcsre.analysis.consumption import duration_unit, format_duration

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


@pytest.mark.parametrize('seconds, text', [
    (0.8412, '0.84 s'),
    (9.994, '9.99 s'),
    (12.34, '12.3 s'),
    (14.84, '14.8 s'),
    (599.9, '599.9 s'),
    (600, '10.00 min'),
    (3725, '62.08 min'),
])
def test_epoch_times_in_seconds_until_ten_minutes(seconds, text):
    assert format_duration(seconds) == text


def test_plot_unit_follows_the_longest_duration():
    assert duration_unit([0.5, 8.0]) == (1.0, 's', '{:.2f}')
    assert duration_unit([14.8, 16.8]) == (1.0, 's', '{:.1f}')
    assert duration_unit([300.0, 900.0]) == (60.0, 'min', '{:.2f}')
