"""Damaged checkpoints are named, and auto-resume skips them."""
import os
import os.path as osp
import subprocess
import sys
import time

import pytest
import torch
from helpers import REPO_ROOT

from mmcsre.utils import (CheckpointError, checkpoint_damage,
                          find_latest_intact_checkpoint, load_checkpoint_file)


def save(path, value=0.0):
    torch.save(
        dict(
            state_dict=dict(w=torch.full((64, 64), value)),
            meta=dict(epoch=1)), path)
    return str(path)


def truncate(path, keep=0.5):
    data = open(path, 'rb').read()
    with open(path, 'wb') as f:
        f.write(data[:int(len(data) * keep)])


def corrupt(path):
    data = bytearray(open(path, 'rb').read())
    # flip bytes inside the tensor payload (the file is a stored zip)
    data[len(data) // 2:len(data) // 2 + 16] = b'\xff' * 16
    with open(path, 'wb') as f:
        f.write(bytes(data))


def test_intact_checkpoint_loads_and_passes(tmp_path):
    path = save(tmp_path / 'a.pth', 2.0)
    assert checkpoint_damage(path) is None
    assert load_checkpoint_file(path)['state_dict']['w'][0, 0] == 2.0


@pytest.mark.parametrize(
    'damage', [truncate, corrupt, lambda p: open(p, 'wb').close()],
    ids=['truncated', 'corrupt', 'empty'])
def test_damaged_checkpoint_error_names_the_file(tmp_path, damage):
    path = save(tmp_path / 'epoch_3.pth')
    damage(path)
    assert checkpoint_damage(path) is not None
    with pytest.raises(CheckpointError, match='epoch_3.pth'):
        load_checkpoint_file(path)


def test_missing_checkpoint_names_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        load_checkpoint_file(str(tmp_path / 'nope.pth'))


def test_crafted_checkpoint_is_refused_without_running(tmp_path):
    marker = tmp_path / 'pwned'

    class Payload:

        def __reduce__(self):
            return (os.system, (f'touch {marker}', ))

    path = tmp_path / 'evil.pth'
    torch.save(dict(state_dict={}, meta=Payload()), path)
    with pytest.raises(CheckpointError, match='evil.pth'):
        load_checkpoint_file(str(path))
    assert not marker.exists()


def test_mmengine_loader_goes_through_the_safe_loader(tmp_path):
    from mmengine.runner.checkpoint import _load_checkpoint
    path = save(tmp_path / 'latest.pth')
    truncate(path)
    with pytest.raises(CheckpointError, match='latest.pth'):
        _load_checkpoint(path)


def test_latest_intact_checkpoint_skips_damaged_ones(tmp_path):
    old = save(tmp_path / 'epoch_1.pth')
    time.sleep(0.01)
    mid = save(tmp_path / 'epoch_2.pth')
    time.sleep(0.01)
    new = save(tmp_path / 'epoch_3.pth')
    (tmp_path / 'last_checkpoint').write_text(new)
    assert find_latest_intact_checkpoint(str(tmp_path)) == new
    truncate(new)
    corrupt(mid)
    lines = []
    assert find_latest_intact_checkpoint(str(tmp_path), lines.append) == old
    assert any('skipping' in s and 'epoch_3.pth' in s for s in lines)
    assert any('skipping' in s and 'epoch_2.pth' in s for s in lines)
    assert 'newest intact' in lines[-1]


def test_no_checkpoint_at_all(tmp_path):
    assert find_latest_intact_checkpoint(str(tmp_path)) is None


def run(args):
    env = dict(os.environ, PYTHONPATH=REPO_ROOT)
    return subprocess.run(
        [sys.executable] + [str(a) for a in args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300)


def test_train_resume_refuses_when_every_checkpoint_is_damaged(tmp_path):
    path = save(tmp_path / 'epoch_1.pth')
    truncate(path)
    config = osp.join(REPO_ROOT, 'configs', 'demo',
                      'stgcn-tiny_1xb16-joint-15e_synthetic.py')
    proc = run(['tools/train.py', config, '--work-dir', tmp_path, '--resume'])
    assert proc.returncode != 0
    assert 'no intact checkpoint' in proc.stderr
    assert 'epoch_1.pth' in proc.stdout + proc.stderr


def test_test_tool_names_a_truncated_checkpoint(tmp_path):
    path = save(tmp_path / 'epoch_9.pth')
    truncate(path)
    config = osp.join(REPO_ROOT, 'configs', 'demo',
                      'stgcn-tiny_1xb16-joint-15e_synthetic.py')
    proc = run(['tools/test.py', config, path, '--work-dir', tmp_path / 'w'])
    assert proc.returncode != 0
    assert 'epoch_9.pth: damaged checkpoint' in proc.stdout + proc.stderr
