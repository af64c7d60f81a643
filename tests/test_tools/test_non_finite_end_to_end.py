"""A diverging run (lr=100) stops with an error naming the iteration and the
loss term, bank or prototypes, and leaves no non-finite checkpoint behind."""
import os
import os.path as osp
import re
import subprocess
import sys

import mmaction
import pytest
import torch
from helpers import REPO_ROOT

CSRE = 'configs/csre/stgcn-tiny-csre_1xb16-joint-15e_synthetic.py'
FRHEAD = 'configs/demo/stgcn-tiny-frhead_1xb16-joint-15e_synthetic.py'
OURS = 'tools/train.py'
MMACTION_TRAIN = osp.join(
    osp.dirname(mmaction.__file__), '.mim', 'tools', 'train.py')
STOP = re.compile(r'NonFiniteGuardHook: iteration (\d+) \(epoch (\d+), '
                  r'batch \d+/\d+\)(?: in ([\w.]+))?: (.*)')


def train(tool, config, work_dir, *options):
    """Run a training tool with lr=100; return (exit code, output)."""
    env = dict(os.environ)
    env['PYTHONPATH'] = REPO_ROOT + os.pathsep + env.get('PYTHONPATH', '')
    proc = subprocess.run([
        sys.executable, tool, config, '--work-dir',
        str(work_dir), '--cfg-options', 'optim_wrapper.optimizer.lr=100',
        *options
    ],
                          cwd=REPO_ROOT,
                          env=env,
                          stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT,
                          text=True,
                          timeout=300)
    return proc.returncode, proc.stdout


def assert_no_non_finite_checkpoint(work_dir):
    for root, _, files in os.walk(work_dir):
        for name in files:
            if name.endswith('.pth'):
                ckpt = torch.load(osp.join(root, name), weights_only=True)
                for key, value in ckpt['state_dict'].items():
                    if value.is_floating_point():
                        assert bool(torch.isfinite(value).all()), (name, key)


@pytest.mark.parametrize(
    'tool,config,module',
    [(OURS, CSRE, 'cls_head.banks.'),
     (MMACTION_TRAIN, FRHEAD, 'aux_heads.frhead.prototypes')],
    ids=['csre-ours', 'frhead-mmaction2'])
def test_diverging_run_stops_naming_iteration_and_module(
        tmp_path, tool, config, module):
    code, out = train(tool, config, tmp_path)
    assert code != 0, out[-3000:]
    stops = STOP.findall(out)
    assert stops, out[-3000:]
    iteration, epoch, name, message = stops[-1]
    # Stopped early (lr=100 first gives NaN within a few epochs of 15; the
    # exact iteration moves with floating-point summation order, e.g. the
    # thread count), at the first non-finite value: a bank or prototype
    # write or a loss term; no later epoch runs.
    assert int(epoch) <= 5 and int(iteration) > 1, stops[-1]
    assert name.startswith(module) or 'non-finite loss: loss' in message
    assert 'NonFiniteStateError' in out or 'NonFiniteLossError' in out
    assert f'Epoch(train)  [{int(epoch) + 1}]' not in out
    assert_no_non_finite_checkpoint(tmp_path)


def test_non_finite_checkpoint_is_not_saved(tmp_path):
    # On a small training set the losses stay finite up to the first
    # checkpoint, but batch-norm statistics have overflowed by then.
    code, out = train(OURS, CSRE, tmp_path,
                      'train_dataloader.dataset.train_per_class=4',
                      'val_dataloader.dataset.val_per_class=2')
    assert code != 0, out[-3000:]
    assert re.search(
        r'NonFiniteGuardHook: refusing to save the checkpoint of epoch \d+, '
        r'iteration \d+: \d+ weight tensor\(s\) hold NaN or inf: '
        r'state_dict: \S+', out), out[-3000:]
    assert not [
        f for _, _, files in os.walk(tmp_path)
        for f in files if f.endswith('.pth')
    ]
