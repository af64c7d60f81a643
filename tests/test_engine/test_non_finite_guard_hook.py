"""NonFiniteGuardHook: non-finite losses or bank writes stop training, or skip
the step without changing parameters, optimizer state or buffers; non-finite
checkpoints are refused; ranks decide together."""
import copy
import logging
import os.path as osp
from types import SimpleNamespace

import pytest
import torch
import torch.multiprocessing as mp
import torch.nn as nn
from mmengine.model import BaseModel, MMDistributedDataParallel
from mmengine.optim import OptimWrapper

from mmcsre.engine.hooks import NonFiniteGuardHook
from mmcsre.models.memory import ContrastiveMemoryBank
from mmcsre.utils import NonFiniteLossError, NonFiniteStateError

BATCH = 4


class ToyModel(BaseModel):
    """Linear + BN features contrasted against a memory bank; ``poison`` makes
    the features ('feats': before the bank write) or the classification loss
    ('loss': after it) non-finite."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 4)
        self.bn = nn.BatchNorm1d(4)
        self.bank = ContrastiveMemoryBank(
            16, 4, num_hard_pos=2, num_hard_neg=2, num_rand_neg=2, seed=0)

    def forward(self, inputs, labels, indices, poison='', mode='loss'):
        feats = self.bn(self.fc(inputs))
        if poison == 'feats':
            feats = feats * float('nan')
        loss_bank = self.bank(feats, labels, indices)
        loss_cls = feats.pow(2).mean()
        if poison == 'loss':
            loss_cls = loss_cls * float('inf')
        aux = [loss_bank * 0.5, loss_bank * 0.5]
        if poison == 'list':
            aux[1] = aux[1] + float('nan')
        return dict(
            loss_cls=loss_cls, loss_aux=aux, acc=torch.tensor(float('nan')))


def batch(step, poison=''):
    gen = torch.Generator().manual_seed(step)
    return dict(
        inputs=torch.randn(BATCH, 3, generator=gen),
        labels=torch.arange(BATCH) % 2,
        indices=(torch.arange(BATCH) + BATCH * step) % 16,
        poison=poison)


def make_runner(model=None, **hook_cfg):
    torch.manual_seed(0)
    model = ToyModel() if model is None else model
    module = getattr(model, 'module', model)
    optim = OptimWrapper(
        torch.optim.SGD(module.parameters(), lr=0.1, momentum=0.9))
    runner = SimpleNamespace(
        model=model,
        optim_wrapper=optim,
        iter=0,
        epoch=0,
        logger=logging.getLogger('test_non_finite_guard'))
    hook = NonFiniteGuardHook(**hook_cfg)
    hook.before_train(runner)
    return runner, hook


def step(runner, hook, data):
    hook.before_train_iter(runner, runner.iter, data)
    out = runner.model.train_step(data, optim_wrapper=runner.optim_wrapper)
    runner.iter += 1
    return out


def state(runner):
    module = getattr(runner.model, 'module', runner.model)
    return (copy.deepcopy(module.state_dict()),
            copy.deepcopy(runner.optim_wrapper.state_dict()))


def assert_same(a, b):
    assert a.keys() == b.keys()
    for key in a:
        if isinstance(a[key], dict):
            assert_same(a[key], b[key])
        elif isinstance(a[key], torch.Tensor):
            assert torch.equal(a[key], b[key]), key
        else:
            assert a[key] == b[key], key


def test_finite_steps_train_and_checks_are_removed_after_train():
    runner, hook = make_runner()
    model = runner.model
    assert 'parse_losses' in vars(model) and 'train_step' in vars(model)
    before = state(runner)[0]
    log_vars = step(runner, hook, batch(0))
    step(runner, hook, batch(1))
    assert {'loss', 'loss_cls', 'loss_aux', 'acc'} <= set(log_vars)
    assert not torch.equal(before['fc.weight'], model.fc.weight)
    assert int(model.bank.num_updates) == 2
    hook.before_train(runner)  # a second call does not wrap twice
    assert len(hook._patched) == 2
    hook.after_train(runner)
    assert 'parse_losses' not in vars(model)
    assert 'train_step' not in vars(model)


@pytest.mark.parametrize('poison,term', [('loss', 'loss_cls=inf'),
                                         ('list', 'loss_aux=nan')])
def test_non_finite_loss_stops_naming_iteration_and_term(poison, term):
    runner, hook = make_runner()
    step(runner, hook, batch(0))
    before = state(runner)
    with pytest.raises(NonFiniteLossError) as info:
        step(runner, hook, batch(1, poison))
    message = str(info.value)
    assert message.startswith('NonFiniteGuardHook: iteration 2:')
    assert term in message and 'loss (total)=' in message
    assert 'acc' not in message  # only the terms that are optimised
    assert info.value.terms[0] == term.split('=')[0]
    # No backward, no optimizer step.
    assert_same(before[1], state(runner)[1])
    module_before = before[0]
    after = state(runner)[0]
    for name, value in runner.model.named_parameters():
        assert torch.equal(module_before[name], after[name])


def test_bank_refusal_stops_naming_the_module():
    runner, hook = make_runner()
    step(runner, hook, batch(0))
    bank = runner.model.bank
    feats, filled = bank.feats.clone(), bank.filled.clone()
    with pytest.raises(NonFiniteStateError) as info:
        step(runner, hook, batch(1, 'feats'))
    message = str(info.value)
    assert 'iteration 2 in bank: ContrastiveMemoryBank refused to write ' \
        f'{BATCH} of {BATCH} feature rows' in message
    assert 'max_skips=N' in message
    assert info.value.num_rows == BATCH
    assert torch.equal(bank.feats, feats) and torch.equal(bank.filled, filled)
    assert int(bank.num_updates) == 1


def test_skip_mode_leaves_everything_unchanged_and_counts():
    runner, hook = make_runner(max_skips=2)
    step(runner, hook, batch(0))
    step(runner, hook, batch(1))  # momentum buffers exist now
    before = state(runner)
    # 'loss': the bank and BN were written before the loss went inf; the
    # skip restores them. 'feats': the bank refuses, BN is restored.
    for k, poison in enumerate(('loss', 'feats'), 1):
        assert step(runner, hook, batch(2 + k, poison)) == {}
        assert hook.num_skips == k
        assert_same(before[0], state(runner)[0])
        assert_same(before[1], state(runner)[1])
        assert all(p.grad is None or not p.grad.any()
                   for p in runner.model.parameters())
    # Finite steps still train, and do not reset the count.
    step(runner, hook, batch(5))
    assert int(runner.model.bank.num_updates) == 3
    with pytest.raises(NonFiniteLossError, match='more than max_skips=2'):
        step(runner, hook, batch(6, 'loss'))
    assert hook.num_skips == 2


def test_skip_warning_is_logged(caplog):
    runner, hook = make_runner(max_skips=1)
    with caplog.at_level(logging.WARNING, logger='test_non_finite_guard'):
        step(runner, hook, batch(0, 'loss'))
    assert 'iteration 1: non-finite loss: loss_cls=inf' in caplog.text
    assert 'step skipped' in caplog.text and '1/1 skips used' in caplog.text


def test_max_skips_must_not_be_negative():
    with pytest.raises(ValueError, match='max_skips'):
        NonFiniteGuardHook(max_skips=-1)


def test_refuses_non_finite_checkpoints():
    runner, hook = make_runner()
    good = dict(
        meta=dict(epoch=3, iter=30),
        state_dict=dict(w=torch.ones(2), steps=torch.tensor(7)))
    hook.before_save_checkpoint(runner, good)
    bad = copy.deepcopy(good)
    bad['state_dict']['w'][1] = float('nan')
    bad['state_dict']['v'] = torch.tensor([1., float('inf'), float('inf')])
    with pytest.raises(NonFiniteStateError) as info:
        hook.before_save_checkpoint(runner, bad)
    assert 'refusing to save the checkpoint of epoch 3, iteration 30' in str(
        info.value)
    assert 'state_dict: w (1/2 non-finite)' in str(info.value)
    assert 'state_dict: v (2/3 non-finite)' in str(info.value)
    ema = dict(good, ema_state_dict=dict(w=torch.tensor(float('nan'))))
    with pytest.raises(NonFiniteStateError, match='ema_state_dict: w=nan'):
        hook.before_save_checkpoint(runner, ema)
    NonFiniteGuardHook(
        check_checkpoints=False).before_save_checkpoint(runner, bad)


def _init_dist(rank, world, init_file):
    torch.set_num_threads(1)
    torch.distributed.init_process_group(
        'gloo', init_method=f'file://{init_file}', rank=rank, world_size=world)


def test_model_wrapper_uses_its_module(tmp_path):
    mp.start_processes(
        _wrapper_worker,
        args=(str(tmp_path / 'init'), ),
        nprocs=1,
        start_method='fork')


def _wrapper_worker(rank, init_file):
    _init_dist(rank, 1, init_file)
    try:
        torch.manual_seed(0)
        wrapped = MMDistributedDataParallel(module=ToyModel())
        runner, hook = make_runner(wrapped)
        assert 'parse_losses' in vars(wrapped.module)
        assert 'train_step' in vars(wrapped)
        step(runner, hook, batch(0))
        with pytest.raises(NonFiniteStateError, match='iteration 2 in bank'):
            step(runner, hook, batch(1, 'feats'))
    finally:
        torch.distributed.destroy_process_group()


def _ranks_worker(rank, init_file, out_dir):
    """Rank 1 alone has an inf loss at step 1, rank 0 alone at step 3."""
    _init_dist(rank, 2, init_file)
    try:
        torch.manual_seed(0)
        runner, hook = make_runner(
            MMDistributedDataParallel(module=ToyModel()), max_skips=1)
        results = []
        for k in range(4):
            poison = 'loss' if (k, rank) in ((1, 1), (3, 0)) else ''
            try:
                results.append(sorted(step(runner, hook, batch(k, poison))))
            except NonFiniteLossError as error:
                results.append(str(error))
                break
        torch.save(
            dict(
                results=results,
                state=runner.model.module.state_dict(),
                skips=hook.num_skips), osp.join(out_dir, f'{rank}.pth'))
    finally:
        torch.distributed.destroy_process_group()


def test_ranks_skip_and_stop_together(tmp_path):
    mp.start_processes(
        _ranks_worker,
        args=(str(tmp_path / 'init'), str(tmp_path)),
        nprocs=2,
        start_method='fork')
    out = [
        torch.load(tmp_path / f'{r}.pth', weights_only=False) for r in range(2)
    ]
    for rank in range(2):
        results = out[rank]['results']
        assert len(results) == 4 and out[rank]['skips'] == 1
        assert results[1] == []  # skipped on both ranks
        assert results[2] == ['acc', 'loss', 'loss_aux', 'loss_cls']
        assert 'iteration 4' in results[3] and 'max_skips=1' in results[3]
    assert 'loss_cls=inf' in out[0]['results'][3]
    assert 'non-finite on another rank' in out[1]['results'][3]
    assert_same(out[0]['state'], out[1]['state'])
