"""Two-process training on CPU through tools/dist_train.sh (torchrun +
gloo): the CSRE and FR Head demos for one epoch."""
import math
import os
import os.path as osp
import re
import socket
import subprocess
import sys

import pytest
import torch
from helpers import REPO_ROOT

HELPERS = osp.join(osp.dirname(osp.abspath(__file__)), 'dist_helpers')
DEMOS = {
    'csre':
    osp.join(REPO_ROOT, 'configs', 'csre',
             'stgcn-tiny-csre_1xb16-joint-15e_synthetic.py'),
    'frhead':
    osp.join(REPO_ROOT, 'configs', 'demo',
             'stgcn-tiny-frhead_1xb16-joint-15e_synthetic.py'),
}
TRAIN_SAMPLES = 10 * 10  # classes x train_per_class
BATCH = 16


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def dist_train(config: str, work_dir, nproc: int = 2) -> str:
    wrapper = work_dir / 'cfg.py'
    wrapper.write_text(
        f"_base_ = '{config}'\n"
        "custom_imports = dict(imports=['mmcsre', 'rank_state_dump'], "
        'allow_failed_imports=False)\n'
        "custom_hooks = [dict(type='MemoryBankInitHook'), "
        "dict(type='NonFiniteGuardHook'), "
        "dict(type='ResumableRandomnessHook'), "
        "dict(type='RankStateDumpHook')]\n")
    env = dict(
        os.environ,
        PORT=str(free_port()),
        OMP_NUM_THREADS='1',
        PYTHONPATH=HELPERS + os.pathsep + os.environ.get('PYTHONPATH', ''))
    env.pop('CUDA_VISIBLE_DEVICES', None)
    proc = subprocess.run([
        'bash', 'tools/dist_train.sh',
        str(wrapper),
        str(nproc), '--work-dir',
        str(work_dir), '--auto-scale-lr', '--cfg-options',
        f'train_dataloader.dataset.train_per_class={TRAIN_SAMPLES // 10}',
        'val_dataloader.dataset.val_per_class=2', 'train_cfg.max_epochs=1',
        'train_cfg.val_begin=1', 'train_cfg.val_interval=1'
    ],
                          cwd=REPO_ROOT,
                          env=env,
                          capture_output=True,
                          text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return proc.stdout + proc.stderr


_RUNS = {}


def demo_run(name, tmp_path_factory):
    """Train demo ``name`` on 2 processes once per test session."""
    if name not in _RUNS:
        work_dir = tmp_path_factory.mktemp(name)
        log = dist_train(DEMOS[name], work_dir)
        ranks = [
            torch.load(work_dir / f'rank{r}_state.pth', weights_only=True)
            for r in range(2)
        ]
        _RUNS[name] = (name, work_dir, log, ranks)
    return _RUNS[name]


@pytest.fixture(params=sorted(DEMOS))
def two_process_run(request, tmp_path_factory):
    return demo_run(request.param, tmp_path_factory)


def test_iterations_follow_the_global_batch(two_process_run):
    _, _, log, ranks = two_process_run
    expected = math.ceil(TRAIN_SAMPLES / (2 * BATCH))  # 100 / 32 -> 4
    assert [r['iters'] for r in ranks] == [expected, expected]
    assert all(r['world_size'] == 2 for r in ranks)
    assert 'Distributed training: True' in log
    # 2 processes x 16 against the 1xb16 the lr was tuned for
    assert 'Scaling the original LR by 2.0' in log


def test_buffers_and_parameters_identical_on_both_ranks(two_process_run):
    name, _, _, (rank0, rank1) = two_process_run
    for kind in ('buffers', 'params'):
        assert rank0[kind].keys() == rank1[kind].keys()
        for key in rank0[kind]:
            assert torch.equal(rank0[kind][key], rank1[kind][key]), \
                f'{name}: {kind} {key} differs between ranks'
    state = rank0['buffers']
    if name == 'csre':
        filled = [k for k in state if k.endswith('.filled')]
        assert filled, 'the CSRE demo has memory banks'
        for key in filled:  # every slot written after one epoch
            assert state[key].numel() == TRAIN_SAMPLES
            assert bool(state[key].all()), f'{key} has empty slots'
    else:
        protos = [k for k in state if 'proto' in k or 'memory' in k]
        assert protos, f'no prototype buffers among {sorted(state)}'


def test_checkpoint_loads_in_one_process(two_process_run, tmp_path):
    name, work_dir, _, (rank0, _) = two_process_run
    code = ('import sys, torch; import mmcsre\n'
            'from mmengine.config import Config\n'
            'from mmengine.registry import init_default_scope\n'
            'from mmaction.registry import MODELS\n'
            'from mmengine.runner import load_checkpoint\n'
            'init_default_scope("mmaction")\n'
            'cfg = Config.fromfile(sys.argv[1])\n'
            'model = MODELS.build(cfg.model)\n'
            'from mmcsre.engine.hooks.memory_bank_init_hook import '
            'MemoryBankInitHook\n'
            'for m in model.modules():\n'
            '    if hasattr(m, "allocate") and m.num_samples == 0:\n'
            f'        m.allocate({TRAIN_SAMPLES})\n'
            'load_checkpoint(model, sys.argv[2], strict=True)\n'
            'print("loaded", sum(p.numel() for p in model.parameters()))\n')
    proc = subprocess.run([
        sys.executable, '-c', code,
        str(DEMOS[name]),
        str(work_dir / 'epoch_1.pth')
    ],
                          cwd=REPO_ROOT,
                          capture_output=True,
                          text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'loaded' in proc.stdout


def test_dist_test_matches_one_process(tmp_path_factory, tmp_path):
    name, work_dir, _, _ = demo_run('csre', tmp_path_factory)
    small = ['--cfg-options', 'test_dataloader.dataset.val_per_class=3']
    env = dict(os.environ, PORT=str(free_port()), OMP_NUM_THREADS='1')
    proc = subprocess.run(
        [
            'bash', 'tools/dist_test.sh', DEMOS[name],
            str(work_dir / 'epoch_1.pth'), '2', '--work-dir',
            str(tmp_path / 'dist'), '--dump', 'scores.pkl'
        ] + small,
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    single = subprocess.run(
        [
            sys.executable, 'tools/test.py', DEMOS[name],
            str(work_dir / 'epoch_1.pth'), '--work-dir',
            str(tmp_path / 'one')
        ] + small,
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300)
    assert single.returncode == 0, single.stderr[-3000:]
    acc = re.compile(r'acc/top1: ([0-9.]+)')
    assert acc.findall(proc.stdout +
                       proc.stderr) == acc.findall(single.stdout +
                                                   single.stderr)
    from mmcsre.fileio import safe_pickle_load
    dump = safe_pickle_load(str(tmp_path / 'dist' / 'scores.pkl'))
    assert len(set(dump['frame_dir'])) == len(dump['frame_dir']) == 30
