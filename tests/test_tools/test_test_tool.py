"""tools/test.py leaves the training run alone and says where it wrote."""
import os
import os.path as osp
import subprocess
import sys

import pytest
from helpers import DEMO_CONFIG, REPO_ROOT, run_tool

TINY = [
    '--cfg-options', 'train_dataloader.dataset.train_per_class=2',
    'val_dataloader.dataset.val_per_class=1',
    'test_dataloader.dataset.val_per_class=1', 'train_cfg.max_epochs=1',
    'train_cfg.val_begin=1'
]
CONFIG_NAME = osp.basename(DEMO_CONFIG)


@pytest.fixture(scope='module')
def work_dir(tmp_path_factory):
    work_dir = tmp_path_factory.mktemp('run')
    run_tool(['tools/train.py', DEMO_CONFIG, '--work-dir', work_dir] + TINY)
    return work_dir


def test_testing_keeps_the_training_config_dump(work_dir):
    before = (work_dir / CONFIG_NAME).read_text()
    out = run_tool([
        'tools/test.py', DEMO_CONFIG, work_dir /
        'epoch_1.pth', '--work-dir', work_dir, '--dump', 'scores.pkl'
    ] + TINY)
    assert (work_dir / CONFIG_NAME).read_text() == before
    assert 'load_from = None' in before
    # a bare dump name lands in the work dir, and the tool says so
    dump = work_dir / 'scores.pkl'
    assert dump.is_file()
    assert f'wrote per-sample scores to {dump}' in out


def test_dump_with_a_directory_is_written_where_asked(work_dir, tmp_path):
    target = tmp_path / 'sub' / 'x.pkl'
    out = run_tool([
        'tools/test.py', DEMO_CONFIG, work_dir /
        'epoch_1.pth', '--work-dir', tmp_path / 'w', '--dump', target
    ] + TINY)
    assert target.is_file() and str(target) in out


@pytest.mark.parametrize('args,message', [
    (['nope.py', 'x.pth'], 'nope.py: no such config file'),
    ([DEMO_CONFIG, 'missing.pth'], 'missing.pth: no such checkpoint file'),
])
def test_missing_inputs_are_one_line_errors(args, message):
    proc = subprocess.run(
        [sys.executable, 'tools/test.py'] + args,
        cwd=REPO_ROOT,
        env=dict(os.environ, PYTHONPATH=REPO_ROOT),
        capture_output=True,
        text=True,
        timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f'error: {message}'


def test_load_from_a_work_dir_takes_its_newest_checkpoint(work_dir, tmp_path):
    out = run_tool(
        ['tools/train.py', DEMO_CONFIG, '--work-dir', tmp_path / 'ft'] + TINY +
        [f'load_from={work_dir}/'])
    assert f'load_from: {work_dir}/epoch_1.pth (newest checkpoint' in out
    assert f'Load checkpoint from {work_dir}/epoch_1.pth' in out


def test_load_from_an_empty_folder_is_an_error(tmp_path):
    (tmp_path / 'empty').mkdir()
    proc = subprocess.run(
        [
            sys.executable, 'tools/train.py', DEMO_CONFIG, '--work-dir',
            str(tmp_path / 'w')
        ] + TINY + [f'load_from={tmp_path}/empty/'],
        cwd=REPO_ROOT,
        env=dict(os.environ, PYTHONPATH=REPO_ROOT),
        capture_output=True,
        text=True,
        timeout=120)
    assert proc.returncode == 2
    assert 'holds no intact checkpoint' in proc.stderr
