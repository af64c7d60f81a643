"""CSRE demo config: train -> test -> resume restores the banks exactly."""
import re

import torch
from helpers import REPO_ROOT, run_tool
from mmengine.config import Config
from mmengine.runner import Runner

import mmcsre  # noqa: F401

CONFIG = f'{REPO_ROOT}/configs/csre/stgcn-tiny-csre_1xb16-joint-15e_synthetic.py'  # noqa: E501
SMALL = [
    'train_dataloader.dataset.train_per_class=4',
    'val_dataloader.dataset.val_per_class=2',
    'test_dataloader.dataset.val_per_class=2', 'train_cfg.val_begin=1',
    'train_cfg.val_interval=1', 'default_hooks.checkpoint.interval=1',
    'default_hooks.logger.interval=1'
]


def test_csre_demo_trains_tests_and_resumes_exactly(tmp_path):
    work = tmp_path / 'work'
    log = run_tool([
        'tools/train.py', CONFIG, '--work-dir', work, '--seed', '0',
        '--cfg-options'
    ] + SMALL + ['train_cfg.max_epochs=2'])
    assert '2 memory bank(s) with 40 slots each' in log
    # Valid anchors are logged every iteration: none against the empty bank
    # of the first batch; in epoch 2 (batches of 16, 16, 8) every anchor.
    valid = [
        float(v) for v in re.findall(r'spatial_valid_anchors: ([0-9.]+)', log)
    ]
    assert len(valid) == 6
    assert valid[0] == 0 and valid[3:] == [16.0, 16.0, 8.0]
    assert 'loss_spatial' in log and 'loss_temporal' in log

    out = run_tool([
        'tools/test.py', CONFIG, work / 'epoch_2.pth', '--work-dir', tmp_path /
        'test', '--cfg-options'
    ] + SMALL)
    assert 'acc/top1' in out

    ckpt = torch.load(work / 'epoch_2.pth', weights_only=True)
    saved = ckpt['state_dict']
    for name in ('spatial', 'temporal'):
        assert bool(saved[f'cls_head.banks.{name}.filled'].all())

    # Resume through mmengine's Runner: MemoryBankInitHook sizes the banks,
    # then the checkpoint fills them; with max_epochs reached nothing trains.
    cfg = Config.fromfile(CONFIG)
    cfg.merge_from_dict(
        dict(
            work_dir=str(tmp_path / 'resumed'),
            resume=True,
            load_from=str(work / 'epoch_2.pth')))
    cfg.merge_from_dict({k: eval(v) for k, v in (o.split('=') for o in SMALL)})
    cfg.train_cfg.max_epochs = 2
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.epoch == 2
    state = runner.model.state_dict()
    for key in [k for k in saved if '.banks.' in k]:
        torch.testing.assert_close(state[key], saved[key], rtol=0, atol=0)
