"""tools/run_sweep.py: arms x seeds trained end to end on the embedded
synthetic data, scored by the last k evaluations, compared with the first
arm; re-running skips finished runs, and interrupted runs resume."""
import importlib.util
import json
import os.path as osp

import pytest
from helpers import DEMO_CONFIG, REPO_ROOT, run_tool

from mmcsre.utils.cli import CLIError

SWEEP = osp.join(REPO_ROOT, 'tools', 'run_sweep.py')
CSRE_DEMO = osp.join(REPO_ROOT, 'configs', 'csre',
                     'stgcn-tiny-csre_1xb16-joint-15e_synthetic.py')
# The demo configs as 6 iterations of batch 16, evaluated every 2, on 2
# samples per class.
ITERATION_CONFIG = '''_base_ = [{base!r}]
train_dataloader = dict(
    dataset=dict(train_per_class=2),
    sampler=dict(type='InfiniteSampler', shuffle=True))
val_dataloader = dict(dataset=dict(val_per_class=2))
test_dataloader = val_dataloader
train_cfg = dict(
    _delete_=True, type='IterBasedTrainLoop', max_iters=6, val_interval=2)
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False)]
default_hooks = dict(
    checkpoint=dict(by_epoch=False, interval=2, save_best=None),
    logger=dict(interval=1))
log_processor = dict(by_epoch=False)
'''


@pytest.fixture(scope='module')
def sweep_module():
    spec = importlib.util.spec_from_file_location('run_sweep', SWEEP)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_arm(tmp_path, name, base):
    path = tmp_path / f'{name}.py'
    path.write_text(ITERATION_CONFIG.format(base=base))
    return f'{name}={path}'


def test_sweep_trains_scores_compares_and_skips_finished_runs(tmp_path):
    arms = [
        write_arm(tmp_path, 'base', DEMO_CONFIG),
        write_arm(tmp_path, 'csre', CSRE_DEMO)
    ]
    work = tmp_path / 'sweep'
    cmd = [
        SWEEP, '--work-dir', work, '--arms', *arms, '--seeds', '0', '1',
        '--jobs', '2', '--last-k', '2', '--poll', '1'
    ]
    out = run_tool(cmd)
    assert '0/4 runs finished, 4 to train, 2 at a time' in out
    assert out.count('done   ') == 4
    done = json.loads((work / 'csre' / 'seed1' / 'done.json').read_text())
    assert done['iters'] == [2, 4, 6]
    assert done['last_k'] == 2 and len(done['last_k_dumps']) == 2
    assert done['last_k_top1'] == pytest.approx(sum(done['top1'][-2:]) / 2)
    assert done['final_top1'] == done['top1'][-1]
    compare = json.loads((work / 'compare_csre' / 'compare.json').read_text())
    assert compare['names'] == ['base', 'csre']
    assert compare['seeds'] == ['0', '1']
    assert compare['evaluations'] == [[2, 2], [2, 2]]
    assert 'mean difference' in out.strip().splitlines()[-1]
    # finished runs are skipped; the comparison is made again
    again = run_tool(cmd)
    assert '4/4 runs finished, 0 to train' in again
    assert 'start ' not in again


def test_resume_and_dry_run_commands(tmp_path, sweep_module):
    args = sweep_module.parse_args([
        '--work-dir',
        str(tmp_path), '--arms', f'base={DEMO_CONFIG}', '--seeds', '3',
        '--dry-run', '--dry-run-iters', '4'
    ])
    [run] = sweep_module.plan_runs(
        sweep_module.parse_arms(args.arms), args.seeds, str(tmp_path))
    cmd = sweep_module.train_command(run, args)
    assert cmd[cmd.index('--seed') + 1] == '3'
    assert '--deterministic' in cmd and '--resume' not in cmd
    # an epoch-based config: 2 epochs on the first 16 samples
    assert 'train_cfg.max_epochs=2' in cmd
    assert 'train_dataloader.dataset.indices=16' in cmd
    assert 'val_dataloader.dataset.indices=16' in cmd
    iteration_based = sweep_module.dry_run_options(
        osp.join(
            REPO_ROOT, 'configs', 'stgcn', 'stgcn-small_1xb16-joint-'
            '1536it_nwucla-official-keypoint-3d.py'), 4, 16)
    assert iteration_based == [
        'train_cfg.max_iters=4', 'train_cfg.val_interval=2'
    ]
    repeated = sweep_module.dry_run_options(
        osp.join(REPO_ROOT, 'configs', 'ctrgcn', 'ctrgcn_1xb16-joint-65e_'
                 'nwucla-official-keypoint-3d.py'), 4, 8)
    assert 'train_dataloader.dataset.dataset.indices=8' in repeated
    (tmp_path / 'base' / 'seed3' / 'last_checkpoint').write_text('x')
    assert '--resume' in sweep_module.train_command(run, args)
    generated = (tmp_path / 'base' / 'seed3' / 'run_config.py').read_text()
    assert 'iter_{iter}.pkl' in generated and DEMO_CONFIG in generated


def test_runs_are_seed_major(sweep_module):
    runs = sweep_module.plan_runs([('a', 'A'), ('b', 'B')], [0, 1], 'W')
    assert [r.name
            for r in runs] == ['a/seed0', 'b/seed0', 'a/seed1', 'b/seed1']


@pytest.mark.parametrize('spec, message', [('noequals', 'NAME=CONFIG'),
                                           ('a=missing.py', 'no such')])
def test_bad_arms(sweep_module, spec, message):
    with pytest.raises(CLIError, match=message):
        sweep_module.parse_arms([spec])


def test_progress_reads_iteration_and_epoch_logs(tmp_path, sweep_module):
    run = sweep_module.Run('a', 'A', 0, str(tmp_path))
    assert run.progress() == 'starting'
    log = tmp_path / 'train.log'
    log.write_text('mmengine - INFO - Iter(train) [ 64/1536]  lr: 1e-2\n'
                   'mmengine - INFO - Iter(train) [128/1536]  lr: 1e-2\n')
    assert run.progress() == '128/1536'
    log.write_text('mmengine - INFO - Epoch(train) [3][ 50/319]  lr: 1\n')
    assert run.progress() == 'epoch 3 50/319'
