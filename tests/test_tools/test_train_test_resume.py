"""End to end on the embedded synthetic data: train -> test -> resume, through
our tools and through mmaction2's own unmodified tools/train.py."""
import glob
import os.path as osp

import mmaction
import mmengine
import numpy as np
import pytest
import torch
from helpers import DEMO_CONFIG, run_tool

import mmcsre  # noqa: F401  (allowlists mmengine checkpoint objects)

# A few-second version of the demo: 10 classes x 3 samples, 2 epochs.
SMALL = [
    '--cfg-options', 'train_dataloader.dataset.train_per_class=3',
    'val_dataloader.dataset.val_per_class=2',
    'test_dataloader.dataset.val_per_class=2', 'train_cfg.val_interval=1',
    'train_cfg.val_begin=1', 'default_hooks.checkpoint.interval=1',
    'default_hooks.logger.interval=1'
]


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    work_dir = tmp_path_factory.mktemp('train')
    run_tool([
        'tools/train.py', DEMO_CONFIG, '--work-dir', work_dir, '--seed', '7',
        '--deterministic'
    ] + SMALL + ['train_cfg.max_epochs=2'])
    return work_dir


def test_train_writes_checkpoints(trained):
    assert osp.isfile(trained / 'epoch_1.pth')
    assert osp.isfile(trained / 'epoch_2.pth')
    ckpt = torch.load(trained / 'epoch_2.pth', weights_only=True)
    assert ckpt['meta']['epoch'] == 2
    assert ckpt['meta']['seed'] == 7


def test_test_tool_loads_checkpoint_with_weights_only_and_dumps(
        trained, tmp_path):
    # torch >= 2.6 defaults torch.load to weights_only=True; mmengine's
    # loader relies on that default, so this runs with weights_only on.
    assert torch.__version__ >= '2.6'
    dump = tmp_path / 'scores.pkl'
    out = run_tool([
        'tools/test.py', DEMO_CONFIG, trained /
        'epoch_2.pth', '--work-dir', tmp_path, '--dump', dump
    ] + SMALL)
    assert 'acc/top1' in out
    scores = mmengine.load(dump)
    assert scores['score_space'] == 'prob'
    assert scores['scores'].shape == (20, 10)
    assert len(set(scores['frame_dir'])) == 20
    np.testing.assert_allclose(scores['scores'].sum(1), 1, rtol=1e-4)
    assert scores['classes'][0] == 'wave right hand'


def test_resume_continues_from_last_checkpoint(trained, tmp_path):
    # Copy the interrupted run (2 of 3 epochs) and resume it.
    import shutil
    work_dir = tmp_path / 'resume'
    shutil.copytree(trained, work_dir)
    out = run_tool([
        'tools/train.py', DEMO_CONFIG, '--work-dir', work_dir, '--resume',
        '--seed', '7'
    ] + SMALL + ['train_cfg.max_epochs=3'])
    assert 'resumed epoch: 2' in out
    assert 'Epoch(train) [1]' not in out
    ckpt = torch.load(work_dir / 'epoch_3.pth', weights_only=True)
    assert ckpt['meta']['epoch'] == 3
    before = torch.load(trained / 'epoch_2.pth', weights_only=True)
    # The optimizer state came along: momentum buffers exist from the start.
    assert len(before['optimizer']['state']) > 0


def test_deterministic_seeded_runs_match(trained, tmp_path):
    run_tool([
        'tools/train.py', DEMO_CONFIG, '--work-dir', tmp_path, '--seed', '7',
        '--deterministic'
    ] + SMALL + ['train_cfg.max_epochs=1'])
    a = torch.load(tmp_path / 'epoch_1.pth', weights_only=True)['state_dict']
    b = torch.load(trained / 'epoch_1.pth', weights_only=True)['state_dict']
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=0)


def test_mmaction_own_train_tool_runs_our_config(tmp_path):
    tool = osp.join(
        osp.dirname(mmaction.__file__), '.mim', 'tools', 'train.py')
    assert osp.isfile(tool), 'mmaction2 ships tools under .mim/tools'
    run_tool([
        tool, DEMO_CONFIG, '--work-dir', tmp_path, '--cfg-options',
        'train_dataloader.dataset.train_per_class=1',
        'val_dataloader.dataset.val_per_class=1', 'train_cfg.max_epochs=1',
        'train_cfg.val_begin=1', 'train_cfg.val_interval=1'
    ])
    assert glob.glob(str(tmp_path / 'epoch_1.pth'))
    # ... and mmaction2's own test tool evaluates it.
    test_tool = tool.replace('train.py', 'test.py')
    out = run_tool([
        test_tool, DEMO_CONFIG, tmp_path / 'epoch_1.pth', '--work-dir',
        tmp_path / 'test', '--cfg-options',
        'test_dataloader.dataset.val_per_class=1'
    ])
    assert 'acc/top1' in out
