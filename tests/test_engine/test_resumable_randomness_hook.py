"""Bit-exact resume: train 2 epochs == train 1, resume, train 1 more.

Every run goes through ``tools/train.py`` with the default, random pipeline
(``UniformSampleFrames`` etc.) on the embedded synthetic data, so the
comparison covers transforms, sampler, dataloader workers, model, optimizer,
memory banks and prototypes.
"""
import os.path as osp
import shutil
from types import SimpleNamespace

import pytest
import torch
from helpers import REPO_ROOT, run_tool

from mmcsre.engine import ResumableRandomnessHook
from mmcsre.utils import get_global_rng_state

CSRE = osp.join(REPO_ROOT, 'configs', 'csre',
                'stgcn-tiny-csre_1xb16-joint-15e_synthetic.py')
FRHEAD = osp.join(REPO_ROOT, 'configs', 'demo',
                  'stgcn-tiny-frhead_1xb16-joint-15e_synthetic.py')

# 40 training samples = 3 iterations an epoch, validated after every epoch.
SMALL = [
    'train_dataloader.dataset.train_per_class=4',
    'val_dataloader.dataset.val_per_class=2', 'train_cfg.val_interval=1',
    'train_cfg.val_begin=1', 'default_hooks.checkpoint.interval=1',
    'default_hooks.logger.interval=1'
]


def flat_tensors(obj, prefix=''):
    """Every tensor of a nested checkpoint structure, by path."""
    if isinstance(obj, torch.Tensor):
        yield prefix, obj
    elif isinstance(obj, dict):
        for key, value in obj.items():
            yield from flat_tensors(value, f'{prefix}.{key}')
    elif isinstance(obj, (list, tuple)):
        for i, value in enumerate(obj):
            yield from flat_tensors(value, f'{prefix}.{i}')


def differing(ckpt_a: str, ckpt_b: str):
    """Names of model/optimizer tensors that are not bit-identical."""
    a = torch.load(ckpt_a, weights_only=True)
    b = torch.load(ckpt_b, weights_only=True)
    fa = dict(flat_tensors(dict(sd=a['state_dict'], opt=a['optimizer'])))
    fb = dict(flat_tensors(dict(sd=b['state_dict'], opt=b['optimizer'])))
    assert fa.keys() == fb.keys()
    return [k for k in fa if not torch.equal(fa[k], fb[k])]


def train(config, work_dir, options, resume=None):
    args = ['tools/train.py', config, '--work-dir', work_dir, '--seed', '3']
    if resume:
        args += ['--resume', resume]
    return run_tool(args + ['--cfg-options'] + SMALL + options)


def split_run(config,
              tmp_path,
              options,
              first='epoch_1.pth',
              last='epoch_2.pth'):
    """Uninterrupted run in ``full``; a copy of its first checkpoint resumed in
    ``split``.

    Returns the two final checkpoints and the resume log.
    """
    full, split = tmp_path / 'full', tmp_path / 'split'
    train(config, full, options)
    split.mkdir()
    shutil.copy(full / first, split / first)
    log = train(config, split, options, resume=str(split / first))
    return full / last, split / last, log


@pytest.mark.parametrize(
    'config,options', [
        (CSRE, ['train_cfg.max_epochs=2']),
        (CSRE, [
            'train_cfg.max_epochs=2', 'train_dataloader.num_workers=2',
            'train_dataloader.persistent_workers=False'
        ]),
        (FRHEAD, ['train_cfg.max_epochs=2']),
    ],
    ids=['csre', 'csre-2-workers', 'frhead'])
def test_epoch_based_resume_is_bit_exact(config, options, tmp_path):
    full, split, log = split_run(config, tmp_path,
                                 options + ['randomness.deterministic=True'])
    assert 'restored the random states of the checkpoint' in log
    assert differing(full, split) == []
    state = torch.load(split, weights_only=True)['state_dict']
    banks = [k for k in state if k.endswith('.filled')]
    if config == CSRE:  # the banks are part of what matched
        assert banks and all(bool(state[k].all()) for k in banks)


def test_iteration_based_resume_across_epochs_and_validation(tmp_path):
    config = tmp_path / 'iter_cfg.py'
    config.write_text(
        f"_base_ = '{CSRE}'\n"
        "train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', "
        'max_iters=10, val_interval=4)\n'
        "param_scheduler = [dict(type='CosineAnnealingLR', T_max=10, "
        'by_epoch=False, eta_min=0)]\n'
        'default_hooks = dict(checkpoint=dict(by_epoch=False, interval=4))\n'
        'log_processor = dict(by_epoch=False)\n')
    # 3 iterations an epoch: iteration 4 is inside the second epoch.
    options = [
        'train_dataloader.dataset.train_per_class=4',
        'val_dataloader.dataset.val_per_class=2'
    ]
    full, split = tmp_path / 'full', tmp_path / 'split'
    base = ['tools/train.py', config, '--seed', '3', '--cfg-options']
    run_tool(base[:2] + ['--work-dir', full] + base[2:] + options)
    split.mkdir()
    shutil.copy(full / 'iter_4.pth', split / 'iter_4.pth')
    run_tool(base[:2] +
             ['--work-dir', split, '--resume', split / 'iter_4.pth'] +
             base[2:] + options)
    assert differing(full / 'iter_10.pth', split / 'iter_10.pth') == []


def test_without_the_hook_resume_diverges(tmp_path):
    """The check above is sensitive: mmengine alone does not resume exactly."""
    config = tmp_path / 'no_hook.py'
    config.write_text(f"_base_ = '{CSRE}'\n"
                      "custom_hooks = [dict(type='MemoryBankInitHook')]\n")
    full, split, _ = split_run(
        str(config), tmp_path, ['train_cfg.max_epochs=2'])
    assert len(differing(full, split)) > 0


def test_checkpoint_meta_holds_every_rank_state_and_loads_weights_only(
        tmp_path):
    train(CSRE, tmp_path, ['train_cfg.max_epochs=1'])
    meta = torch.load(tmp_path / 'epoch_1.pth', weights_only=True)['meta']
    assert len(meta['rng_states']) == 1
    state = meta['rng_states'][0]
    assert set(state) == {'python', 'numpy', 'torch', 'cuda'}
    assert state['numpy']['key'].shape == (624, )
    assert isinstance(meta['sampler_seed'], int)


class _Logger:

    def __init__(self):
        self.lines = []

    def info(self, msg):
        self.lines.append(msg)

    warning = info


def test_load_from_does_not_restore_random_states():
    hook = ResumableRandomnessHook()
    runner = SimpleNamespace(_resume=False, logger=_Logger())
    ckpt = dict(meta=dict(rng_states=[get_global_rng_state()]))
    hook.after_load_checkpoint(runner, ckpt)
    hook.before_train(runner)  # nothing stashed: must not touch the loop
    assert runner.logger.lines == []


def test_checkpoint_without_states_warns():
    hook = ResumableRandomnessHook()
    runner = SimpleNamespace(_resume=True, logger=_Logger())
    hook.after_load_checkpoint(runner, dict(meta=dict(epoch=1, iter=3)))
    hook.before_train(runner)
    assert 'without random states' in runner.logger.lines[0]


def test_world_size_mismatch_warns_and_keeps_streams():
    hook = ResumableRandomnessHook()
    runner = SimpleNamespace(_resume=True, logger=_Logger())
    state = get_global_rng_state()
    hook.after_load_checkpoint(
        runner, dict(meta=dict(rng_states=[state, state], epoch=1, iter=3)))
    hook.before_train(runner)
    assert 'of 2 ranks, this run has 1' in runner.logger.lines[0]


def test_validation_leaves_the_streams_alone():
    hook = ResumableRandomnessHook()
    runner = SimpleNamespace()
    before = torch.get_rng_state()
    expected = torch.rand(3)
    torch.set_rng_state(before)
    hook.before_val(runner)
    torch.rand(100)  # validation draws
    hook.after_val_epoch(runner)
    hook.after_val(runner)
    torch.testing.assert_close(torch.rand(3), expected, rtol=0, atol=0)
