"""Storage options of :class:`ContrastiveMemoryBank`: low-precision storage, a
FIFO queue, and sharding the bank across ranks (2-process gloo tests)."""
import copy
import logging
import os.path as osp
from types import SimpleNamespace

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn as nn
import torch.nn.functional as F
from mmengine.runner import BaseLoop
from test_contrastive_memory_bank import full_cfg, reference_loss, snapshot

from mmcsre.engine.hooks import MemoryBankInitHook
from mmcsre.models.memory import ContrastiveMemoryBank
from mmcsre.models.memory import contrastive_memory_bank as cmb


def random_bank(num_samples=4000,
                feat_dim=128,
                num_classes=40,
                seed=0,
                fill=0.9,
                **cfg):
    """A bank whose slots hold random unit features, ~``fill`` filled."""
    bank = ContrastiveMemoryBank(num_samples, feat_dim, seed=seed, **cfg)
    gen = torch.Generator().manual_seed(seed)
    bank.feats.copy_(
        F.normalize(torch.randn(num_samples, feat_dim, generator=gen), dim=1))
    bank.labels.copy_(
        torch.randint(num_classes, (num_samples, ), generator=gen))
    bank.filled.copy_(torch.rand(num_samples, generator=gen) < fill)
    return bank


def batches(num_samples, feat_dim, num_classes, batch_size, steps, seed):
    gen = torch.Generator().manual_seed(seed)
    return [(torch.randn(batch_size, feat_dim, generator=gen),
             torch.randint(num_classes, (batch_size, ), generator=gen),
             torch.randperm(num_samples, generator=gen)[:batch_size])
            for _ in range(steps)]


def loss_and_grad(bank, feats, labels, indices):
    feats = feats.clone().requires_grad_()
    loss = bank(feats, labels, indices)
    loss.backward()
    return loss.detach(), feats.grad


def buffer_bytes(bank):
    return sum(b.numel() * b.element_size() for b in bank.buffers())


# --------------------------------------------------------------------------
# Exact top-k of wide rows
# --------------------------------------------------------------------------
@pytest.mark.parametrize('width,k', [(5000, 50), (6007, 64), (777, 3)])
@pytest.mark.parametrize('largest', [True, False])
def test_grouped_topk_is_exact(width, k, largest):
    torch.manual_seed(0)
    score = torch.randn(5, width)
    score[0, ::3] = float('-inf') if largest else float('inf')
    score[1, 100:] = 0.5  # ties
    idx = cmb._topk_indices(score, k, largest)
    assert idx.shape == (5, k)
    assert all(len(set(row.tolist())) == k for row in idx)
    expected = score.topk(k, 1, largest=largest).values.sort(1).values
    assert torch.equal(score.gather(1, idx).sort(1).values, expected)


# --------------------------------------------------------------------------
# Storage dtype
# --------------------------------------------------------------------------
# Measured worst cases over the configs below (4 seeds, 3 steps each):
# loss 1.0e-6 (fp16) / 7.0e-6 (bf16) relative to the fp32 bank, gradient
# (L2 norm) 1.6e-2 / 2.4e-2 -- cancellation between positive and negative
# terms amplifies the rounding of the stored rows.
LOSS_RTOL = dict(float16=1e-4, bfloat16=1e-3)
GRAD_RTOL = dict(float16=5e-2, bfloat16=1e-1)
DTYPE_CFGS = [
    dict(),
    dict(pos_sampling='H', neg_sampling='H'),
    dict(
        pos_sampling='R+H',
        num_hard_pos=64,
        num_hard_neg=256,
        num_rand_neg=256,
        temperature=0.1)
]


@pytest.mark.parametrize('dtype', ['float16', 'bfloat16'])
def test_storage_dtype_buffers(dtype):
    bank = ContrastiveMemoryBank(10, 8, storage_dtype=dtype)
    assert bank.feats.dtype == getattr(torch, dtype)
    assert bank.feats.element_size() == 2
    assert f'storage_dtype={dtype}' in bank.extra_repr()
    fp32 = ContrastiveMemoryBank(10, 8)
    assert buffer_bytes(fp32) - buffer_bytes(bank) == 10 * 8 * 2
    lazy = ContrastiveMemoryBank(None, 8, storage_dtype=dtype)
    lazy.allocate(10)
    assert lazy.feats.dtype == bank.feats.dtype
    bank(torch.randn(3, 8), torch.tensor([0, 1, 0]), torch.tensor([1, 2, 3]))
    state = bank.state_dict()
    assert state['feats'].dtype == bank.feats.dtype
    # checkpoints convert between storage dtypes on load
    fp32.load_state_dict(state)
    assert fp32.feats.dtype == torch.float32
    torch.testing.assert_close(fp32.feats, bank.feats.float(), rtol=0, atol=0)
    with pytest.raises(ValueError, match='storage_dtype'):
        ContrastiveMemoryBank(10, 8, storage_dtype='float64')


@pytest.mark.parametrize('cfg', DTYPE_CFGS)
@pytest.mark.parametrize('dtype', ['float16', 'bfloat16'])
def test_storage_dtype_loss_matches_fp32(dtype, cfg):
    """The same features written to an fp32 and a low-precision bank: the
    losses agree within LOSS_RTOL, the gradients within GRAD_RTOL.

    Against an
    fp32 bank holding the rounded rows, the loss is the same up to fp32
    rounding: similarities are computed in fp32.
    """
    for seed in range(2):
        fp32 = random_bank(seed=seed, **cfg)
        low = random_bank(seed=seed, storage_dtype=dtype, **cfg)
        rounded = random_bank(seed=seed, **cfg)
        rounded.feats.copy_(low.feats.float())
        for feats, labels, indices in batches(4000, 128, 40, 32, 3, seed):
            ref, ref_grad = loss_and_grad(fp32, feats, labels, indices)
            loss, grad = loss_and_grad(low, feats, labels, indices)
            exact, _ = loss_and_grad(rounded, feats, labels, indices)
            assert int(low.last_num_valid) == int(fp32.last_num_valid) > 0
            torch.testing.assert_close(
                loss, ref, rtol=LOSS_RTOL[dtype], atol=0)
            torch.testing.assert_close(loss, exact, rtol=1e-5, atol=0)
            assert (grad - ref_grad).norm() <= \
                GRAD_RTOL[dtype] * ref_grad.norm()
            # the stored rows are the written ones, rounded
            torch.testing.assert_close(
                low.feats[indices].float(),
                F.normalize(feats, dim=1).to(low.feats.dtype).float(),
                rtol=0,
                atol=0)


def test_low_precision_similarity_is_upcast_in_blocks(monkeypatch):
    bank = random_bank(num_samples=1000, feat_dim=16, storage_dtype='float16')
    query = F.normalize(torch.randn(4, 16), dim=1)
    whole = query @ bank.feats.float().t()
    monkeypatch.setattr(cmb, '_UPCAST_ELEMENTS', 16 * 300)  # 4 blocks
    torch.testing.assert_close(bank._similarity(query), whole)


# --------------------------------------------------------------------------
# FIFO queue
# --------------------------------------------------------------------------
def test_queue_build_and_options():
    queue = ContrastiveMemoryBank(None, 4, queue_size=5)
    assert queue.num_samples == 5 and queue.feats.shape == (5, 4)
    assert int(queue.queue_ptr) == 0 and not queue.filled.any()
    assert set(queue.state_dict()) == {
        'feats', 'labels', 'filled', 'seed', 'num_updates', 'queue_ptr'
    }
    assert 'queue_size=5' in queue.extra_repr()
    queue.allocate(1000)  # the dataset's size: a queue keeps its K slots
    assert queue.num_samples == 5
    with pytest.raises(ValueError, match='not both'):
        ContrastiveMemoryBank(10, 4, queue_size=5)
    with pytest.raises(ValueError, match='queue_size'):
        ContrastiveMemoryBank(None, 4, queue_size=0)
    # a bank with one slot per sample has no pointer
    assert 'queue_ptr' not in ContrastiveMemoryBank(5, 4).state_dict()


def test_memory_bank_init_hook_leaves_a_queue_alone():

    class Loop(BaseLoop):

        def __init__(self, dataset):
            self.dataloader = SimpleNamespace(dataset=dataset)

        def run(self):
            pass

    model = nn.ModuleDict(
        dict(
            queue=ContrastiveMemoryBank(None, 4, queue_size=6),
            bank=ContrastiveMemoryBank(None, 4)))
    runner = SimpleNamespace(
        model=model,
        _train_loop=Loop(list(range(40))),
        logger=logging.getLogger('test'))
    MemoryBankInitHook().before_run(runner)
    assert model['queue'].num_samples == 6
    assert model['bank'].num_samples == 40


def test_queue_writes_in_arrival_order_and_wraps():
    queue = ContrastiveMemoryBank(None, 3, queue_size=5, seed=0)
    rows = F.normalize(torch.randn(15, 3), dim=1)
    labels = torch.arange(15) % 4

    def write(a, b, indices=None):
        queue(rows[a:b], labels[a:b], indices)

    write(0, 3, torch.tensor([7, 7, 7]))  # indices are ignored
    assert int(queue.queue_ptr) == 3
    assert queue.filled.tolist() == [True] * 3 + [False] * 2
    torch.testing.assert_close(queue.feats[:3], rows[:3])
    write(3, 6)  # slots 3, 4, then 0: the oldest entry goes first
    assert int(queue.queue_ptr) == 1 and queue.filled.all()
    torch.testing.assert_close(queue.feats, rows[[5, 1, 2, 3, 4]])
    assert queue.labels.tolist() == labels[[5, 1, 2, 3, 4]].tolist()
    write(6, 8)
    torch.testing.assert_close(queue.feats, rows[[5, 6, 7, 3, 4]])
    assert int(queue.queue_ptr) == 3
    # a batch larger than the queue: only its last K rows stay, in order
    write(8, 15)  # 7 rows from slot 3: rows 10-14 at slots 0, 1, 2, 3, 4
    assert int(queue.queue_ptr) == (3 + 7) % 5
    torch.testing.assert_close(queue.feats, rows[[10, 11, 12, 13, 14]])
    assert queue.labels.tolist() == labels[10:15].tolist()
    assert int(queue.num_updates) == 4


@pytest.mark.parametrize('pos_sampling,neg_sampling', [('H', 'R+H'),
                                                       ('R+H', 'H')])
def test_queue_loss_matches_reference_without_own_slot(pos_sampling,
                                                       neg_sampling):
    """The queue's loss is the reference InfoNCE over its filled slots with no
    slot excluded (an anchor has no slot of its own), and the gradient that of
    the queue before the batch was written."""
    cfg = dict(
        num_hard_pos=3,
        num_hard_neg=4,
        num_rand_pos=100,
        num_rand_neg=100,
        temperature=0.5,
        pos_sampling=pos_sampling,
        neg_sampling=neg_sampling)
    queue = ContrastiveMemoryBank(None, 8, queue_size=30, seed=1, **cfg)
    gen = torch.Generator().manual_seed(2)
    for step in range(5):  # fills and wraps around
        feats = torch.randn(8, 8, generator=gen)
        labels = torch.randint(3, (8, ), generator=gen)
        state = snapshot(queue)
        feats_ref = feats.clone().requires_grad_()
        loss, grad = loss_and_grad(queue, feats, labels, None)
        ref, num_valid = reference_loss(state, feats_ref, labels,
                                        torch.full((8, ), -1), full_cfg(queue))
        assert int(queue.last_num_valid) == num_valid
        torch.testing.assert_close(loss, ref.detach(), rtol=1e-5, atol=1e-6)
        if num_valid:
            ref.backward()
            torch.testing.assert_close(
                grad, feats_ref.grad, rtol=1e-4, atol=1e-6)
    assert num_valid == 8


def test_queue_state_dict_round_trip_and_resume():
    cfg = dict(
        queue_size=12,
        num_hard_pos=2,
        num_hard_neg=3,
        num_rand_neg=3,
        pos_sampling='R+H',
        num_rand_pos=2)
    data = batches(100, 6, 3, 5, 6, seed=3)
    straight = ContrastiveMemoryBank(None, 6, seed=4, **cfg)
    losses = [straight(f, y, i).item() for f, y, i in data]

    first = ContrastiveMemoryBank(None, 6, seed=4, **cfg)
    for f, y, i in data[:3]:
        first(f, y, i)
    state = first.state_dict()
    assert int(state['queue_ptr']) == 15 % 12
    resumed = ContrastiveMemoryBank(None, 6, seed=99, **cfg)
    resumed.load_state_dict(state)
    assert int(resumed.queue_ptr) == 3 and int(resumed.seed) == 4
    assert [resumed(f, y, i).item() for f, y, i in data[3:]] == losses[3:]
    for key, value in straight.state_dict().items():
        assert torch.equal(resumed.state_dict()[key], value), key
    with pytest.raises(ValueError, match='12'):
        ContrastiveMemoryBank(None, 6, queue_size=10).load_state_dict(state)


# --------------------------------------------------------------------------
# Sharded: the random draws merged over shards are uniform
# --------------------------------------------------------------------------
def test_random_draws_merged_over_shards_are_uniform():
    """Two shards with 3 and 12 candidates draw 4 each; merged by their keys,
    every one of the 15 candidates is chosen equally often."""
    bank = ContrastiveMemoryBank(4, 2)
    masks = [torch.arange(10) < 3, torch.arange(20) < 12]
    masks = [m.unsqueeze(0) for m in masks]
    k, trials = 4, 1500
    counts = torch.zeros(15)
    for trial in range(trials):
        keys, values, slots = [], [], []
        for shard, mask in enumerate(masks):
            bank.seed.fill_(2 * trial + shard)
            idx, ok = bank._random_subset(mask, k, stream=1)
            keys.append(bank._shard_keys(ok, mask.sum(1), stream=3))
            values.append(torch.zeros(1, k))
            slots.append(idx + 3 * shard)  # global ids 0-2, 3-14
        slots_m, _, ok_m = ContrastiveMemoryBank._merge_shards(
            torch.stack(keys), torch.stack(values), torch.stack(slots), k)
        chosen = slots_m[ok_m].tolist()
        assert len(chosen) == k == len(set(chosen))
        assert all(0 <= c < 15 for c in chosen)
        counts[chosen] += 1
    expected = trials * k / 15
    chi2 = float(((counts - expected)**2 / expected).sum())
    assert chi2 < 14 + 6 * (2 * 14)**0.5, counts  # 14 dof


# --------------------------------------------------------------------------
# Sharded across 2 gloo processes against the replicated bank
# --------------------------------------------------------------------------
SH_L, SH_D, SH_Q, SH_STEPS, SH_SIZES = 24, 6, 14, 4, (3, 5)
SH_CFGS = dict(
    hard=dict(
        num_samples=SH_L,
        pos_sampling='H',
        neg_sampling='H',
        num_hard_pos=2,
        num_hard_neg=3),
    hard_complete=dict(
        num_samples=SH_L,
        pos_sampling='H',
        neg_sampling='H',
        num_hard_pos=2,
        num_hard_neg=3,
        anchor_rule='complete'),
    hard_bf16=dict(
        num_samples=SH_L,
        pos_sampling='H',
        neg_sampling='H',
        num_hard_pos=2,
        num_hard_neg=3,
        storage_dtype='bfloat16'),
    mixed=dict(
        num_samples=SH_L,
        pos_sampling='R+H',
        neg_sampling='R+H',
        num_hard_pos=2,
        num_hard_neg=3,
        num_rand_pos=2,
        num_rand_neg=4),
    queue=dict(
        num_samples=None,
        queue_size=SH_Q,
        pos_sampling='H',
        neg_sampling='H',
        num_hard_pos=2,
        num_hard_neg=3))
HARD = ('hard', 'hard_complete', 'hard_bf16', 'queue')


def sh_bank(name, sharded, lazy=False):
    cfg = dict(SH_CFGS[name])
    num_samples = cfg.pop('num_samples')
    return ContrastiveMemoryBank(
        None if lazy else num_samples, SH_D, seed=5, sharded=sharded, **cfg)


def sh_batch(step, rank):
    """Rank 0: 3 samples, rank 1: 5, disjoint indices within a step."""
    gen = torch.Generator().manual_seed(100 * step + rank)
    perm = torch.randperm(SH_L, generator=torch.Generator().manual_seed(step))
    indices = perm[:3] if rank == 0 else perm[3:8]
    size = SH_SIZES[rank]
    return (torch.randn(size, SH_D, generator=gen),
            torch.randint(3, (size, ), generator=gen), indices)


def sh_initial_state(name):
    """A partly filled replicated bank's checkpoint (world size 1)."""
    bank = sh_bank(name, sharded=False)
    gen = torch.Generator().manual_seed(7)
    feats = torch.randn(16, SH_D, generator=gen)
    labels = torch.randint(3, (16, ), generator=gen)
    bank(feats, labels, torch.randperm(SH_L, generator=gen)[:16])
    return bank.state_dict()


def _sharded_worker(rank, world_size, out_dir):
    early = sh_bank('hard', sharded=True)  # before the process group
    dist.init_process_group(
        'gloo',
        init_method='file://' + osp.join(out_dir, 'rendezvous'),
        rank=rank,
        world_size=world_size)
    torch.set_num_threads(1)
    try:
        out = dict(early=[early.feats.shape[0]])
        with pytest.raises(RuntimeError, match='init_process_group'):
            early(*sh_batch(0, rank))
        early.allocate(SH_L)  # MemoryBankInitHook's call: re-laid out
        out['early'].append(early.feats.shape[0])
        early(*sh_batch(0, rank))
        initial = torch.load(osp.join(out_dir, 'initial.pth'))
        for name in SH_CFGS:
            bank = sh_bank(name, sharded=True)
            bank.load_state_dict(initial[name])  # world size 1 -> 2
            rec = dict(
                rows=bank.feats.shape[0],
                bytes=buffer_bytes(bank),
                loaded=[
                    bank.feats.clone(),
                    bank.labels.clone(),
                    bank.filled.clone()
                ],
                steps=[])
            for step in range(SH_STEPS):
                loss, grad = loss_and_grad(bank, *sh_batch(step, rank))
                rec['steps'].append(
                    dict(
                        loss=loss,
                        grad=grad,
                        num_valid=int(bank.last_num_valid)))
            path = osp.join(out_dir, f'{name}.pth')
            if rank == 0:
                torch.save(bank.state_dict(), path)
            else:
                with pytest.raises(RuntimeError, match='rank 0') as info:
                    bank.state_dict()
                rec['error'] = str(info.value)
            dist.barrier()
            # resume from the full checkpoint (world size 2 -> 2)
            again = sh_bank(name, sharded=True, lazy=name != 'queue')
            again.load_state_dict(torch.load(path))
            rec['reloaded'] = [
                torch.equal(getattr(again, b), getattr(bank, b))
                for b in ('feats', 'labels', 'filled', 'num_updates')
            ]
            batch = sh_batch(SH_STEPS, rank)
            rec['next'] = [
                loss_and_grad(again, *batch),
                loss_and_grad(bank, *batch)
            ]
            out[name] = rec
        torch.save(out, osp.join(out_dir, f'rank{rank}.pth'))
    finally:
        dist.destroy_process_group()


@pytest.fixture(scope='module')
def sharded_run(tmp_path_factory):
    out_dir = tmp_path_factory.mktemp('sharded')
    initial = {name: sh_initial_state(name) for name in SH_CFGS}
    torch.save(initial, out_dir / 'initial.pth')
    mp.spawn(_sharded_worker, args=(2, str(out_dir)), nprocs=2, join=True)
    out = [torch.load(out_dir / f'rank{r}.pth') for r in range(2)]
    saved = {name: torch.load(out_dir / f'{name}.pth') for name in SH_CFGS}
    return initial, out, saved


@pytest.mark.parametrize('name', list(SH_CFGS))
def test_sharded_bank_equals_replicated(sharded_run, name):
    """Each rank holds half the rows; every rank's loss (and, with hard sets
    only, gradient) equals the replicated bank's on the same bank state, the
    anchor counts always; the saved full bank equals the replicated one."""
    initial, out, saved = sharded_run
    num_slots = SH_Q if name == 'queue' else SH_L
    replay = sh_bank(name, sharded=False)
    replay.load_state_dict(initial[name])
    for rank in range(2):
        rec = out[rank][name]
        assert rec['rows'] == num_slots // 2  # slot i on rank i % 2
        assert rec['bytes'] < 0.6 * buffer_bytes(replay)
        full = initial[name]
        for got, key in zip(rec['loaded'], ('feats', 'labels', 'filled')):
            assert torch.equal(got, full[key][rank::2])
    for step in range(SH_STEPS):
        for rank in range(2):
            rec = out[rank][name]['steps'][step]
            single = copy.deepcopy(replay)  # the bank before the step
            loss, grad = loss_and_grad(single, *sh_batch(step, rank))
            assert rec['num_valid'] == int(single.last_num_valid)
            if name in HARD:
                torch.testing.assert_close(
                    rec['loss'], loss, rtol=1e-6, atol=1e-7)
                if name == 'hard_bf16':  # shards round their partial sums
                    assert (rec['grad'] - grad).norm() <= \
                        2e-2 * grad.norm()
                else:
                    torch.testing.assert_close(
                        rec['grad'], grad, rtol=1e-5, atol=1e-7)
            else:
                assert torch.isfinite(rec['loss']) and rec['loss'] > 0
                assert torch.isfinite(rec['grad']).all()
        # all ranks' writes, in rank order
        feats, labels, indices = zip(*(sh_batch(step, r) for r in range(2)))
        replay(torch.cat(feats), torch.cat(labels), torch.cat(indices))
    assert any(out[r][name]['steps'][-1]['num_valid'] for r in range(2))
    # the checkpoint holds the full bank: that of the replicated run
    assert saved[name]['feats'].shape[0] == num_slots
    for key, value in replay.state_dict().items():
        torch.testing.assert_close(saved[name][key], value, rtol=0, atol=0)
    assert 'rank 0' in out[1][name]['error']
    # ... and resumes, in world size 2 and in world size 1
    for rank in range(2):
        assert all(out[rank][name]['reloaded'])
        (loss_a, grad_a), (loss_b, grad_b) = out[rank][name]['next']
        assert torch.equal(loss_a, loss_b) and torch.equal(grad_a, grad_b)
    for sharded in (True, False):
        single = sh_bank(name, sharded=sharded, lazy=name != 'queue')
        single.load_state_dict(saved[name])
        for key, value in replay.state_dict().items():
            assert torch.equal(single.state_dict()[key], value), key


def test_sharded_bank_built_before_the_process_group(sharded_run):
    _, out, _ = sharded_run
    for rank in range(2):
        assert out[rank]['early'] == [SH_L, SH_L // 2]


def test_sharded_without_distributed_is_the_replicated_bank():
    cfg = dict(num_hard_pos=2, num_hard_neg=3, num_rand_neg=4, seed=3)
    plain = ContrastiveMemoryBank(20, 4, **cfg)
    sharded = ContrastiveMemoryBank(20, 4, sharded=True, **cfg)
    assert 'sharded=True' in sharded.extra_repr()
    for feats, labels, indices in batches(20, 4, 3, 6, 3, seed=1):
        assert torch.equal(
            plain(feats, labels, indices), sharded(feats, labels, indices))
    for key, value in plain.state_dict().items():
        assert torch.equal(sharded.state_dict()[key], value)
