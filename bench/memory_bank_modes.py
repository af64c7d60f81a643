"""Benchmark: time and memory of the ``ContrastiveMemoryBank`` storage modes
(a benchmark, not a test).

For each mode -- fp32 replicated (the default), fp16 and bf16 storage, a FIFO
queue of K slots, and a bank sharded over 2 gloo processes -- and each bank
size L, this times one forward + backward of the bank (with its write, as in
training; B anchors of dimension D, default counts 128 / 512 / 512, 120
classes, every slot filled) against the floor of one B x L x D matmul (for
the queue B x K x D; for a shard the 2B x L/2 x D matmul of its share, the
same FLOPs) timed in the same loop iteration. Medians over ``--repeats``
iterations after ``--warmup``; ratio = bank / floor. Memory: the bytes of
the bank's buffers per rank (a sharded bank's rank 0 also keeps a host copy
of the full bank for checkpoints, listed separately). Prints a markdown
table (JSON with ``--out``); ``--quick`` runs tiny sizes (CI smoke test).

Example::

    python bench/memory_bank_modes.py --threads 1 --out bank_modes.json
"""
import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from typing import Dict, List

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F

import mmcsre  # noqa: F401
from mmcsre.models.memory import ContrastiveMemoryBank

MODES = ('fp32', 'fp16', 'bf16', 'queue', 'sharded')
MODE_CFG = dict(
    fp32=dict(),
    fp16=dict(storage_dtype='float16'),
    bf16=dict(storage_dtype='bfloat16'),
    queue=dict(),
    sharded=dict(sharded=True))


def buffer_bytes(bank: ContrastiveMemoryBank) -> int:
    return sum(b.numel() * b.element_size() for b in bank.buffers())


def dataset_labels(L: int, num_classes: int) -> torch.Tensor:
    """The label of every training sample (the same on every rank)."""
    return torch.randint(
        num_classes, (L, ), generator=torch.Generator().manual_seed(1))


def fill(bank: ContrastiveMemoryBank,
         labels: torch.Tensor,
         seed: int,
         rank: int = 0,
         world: int = 1) -> None:
    """Every (local) slot filled with a random unit feature and its sample's
    label (a shard: slots ``rank::world``)."""
    gen = torch.Generator().manual_seed(seed)
    rows, dim = bank.feats.shape
    step = 1 << 16
    for start in range(0, rows, step):  # without a full fp32 temporary
        block = torch.randn(min(step, rows - start), dim, generator=gen)
        bank.feats[start:start + step] = F.normalize(block, dim=1)
    bank.labels.copy_(labels[rank::world])
    bank.filled.fill_(True)


def time_loop(bank: ContrastiveMemoryBank, args, labels: torch.Tensor,
              num_rows: int, seed: int) -> Dict[str, List[float]]:
    """Per iteration: the floor matmul, then the bank's forward + backward of a
    batch of random samples (each with its label, as in training)."""
    gen = torch.Generator().manual_seed(seed)
    B, D = args.batch_size, args.feat_dim
    feats = torch.randn(B, D, generator=gen, requires_grad=True)
    query = F.normalize(torch.randn(num_rows, D, generator=gen), dim=1)
    # the floor is an fp32 matmul of the bank's size, whatever its storage
    table = bank.feats if bank.feats.dtype == torch.float32 else \
        torch.randn(bank.feats.shape, generator=gen)
    floor, total = [], []
    for it in range(args.warmup + args.repeats):
        indices = torch.randint(len(labels), (B, ), generator=gen)
        start = time.perf_counter()
        with torch.no_grad():
            sim = query @ table.t()
        middle = time.perf_counter()
        del sim
        bank(feats, labels[indices], indices).backward()
        end = time.perf_counter()
        if it >= args.warmup:
            floor.append(middle - start)
            total.append(end - middle)
    return dict(floor=floor, total=total)


def bench_single(mode: str, L: int, args) -> Dict:
    """One process: fp32 / fp16 / bf16 banks of L slots, or the queue."""
    cfg = dict(MODE_CFG[mode], seed=0)
    if mode == 'queue':
        bank = ContrastiveMemoryBank(
            None, args.feat_dim, queue_size=args.queue_size, **cfg)
    else:
        bank = ContrastiveMemoryBank(L, args.feat_dim, **cfg)
    labels = dataset_labels(L, args.num_classes)
    if mode == 'queue':
        fill(bank, labels[torch.randint(L, (bank.num_samples, ))], seed=1)
    else:
        fill(bank, labels, seed=1)
    times = time_loop(bank, args, labels, args.batch_size, seed=2)
    return dict(times=times, bytes=[buffer_bytes(bank)], mirror_bytes=0)


def _sharded_worker(rank: int, world: int, L: int, args, out_dir: str) -> None:
    torch.set_num_threads(args.threads)
    dist.init_process_group(
        'gloo',
        init_method='file://' + os.path.join(out_dir, 'rendezvous'),
        rank=rank,
        world_size=world)
    try:
        bank = ContrastiveMemoryBank(
            L, args.feat_dim, seed=0, **MODE_CFG['sharded'])
        labels = dataset_labels(L, args.num_classes)
        fill(bank, labels, seed=1 + rank, rank=rank, world=world)
        times = time_loop(
            bank, args, labels, world * args.batch_size, seed=2 + rank)
        mirror = bank._mirror or {}
        torch.save(
            dict(
                times=times,
                bytes=buffer_bytes(bank),
                mirror_bytes=sum(t.numel() * t.element_size()
                                 for t in mirror.values())),
            os.path.join(out_dir, f'rank{rank}.pth'))
    finally:
        dist.destroy_process_group()


def bench_sharded(L: int, args, world: int = 2) -> Dict:
    """``world`` gloo processes on this machine, ``--threads`` each."""
    with tempfile.TemporaryDirectory() as out_dir:
        mp.spawn(
            _sharded_worker,
            args=(world, L, args, out_dir),
            nprocs=world,
            join=True)
        ranks = [
            torch.load(
                os.path.join(out_dir, f'rank{r}.pth'), weights_only=True)
            for r in range(world)
        ]
    # per iteration the slowest rank (the step waits for it)
    times = {
        key: [max(vals) for vals in zip(*(r['times'][key] for r in ranks))]
        for key in ('floor', 'total')
    }
    return dict(
        times=times,
        bytes=[r['bytes'] for r in ranks],
        mirror_bytes=ranks[0]['mirror_bytes'])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--sizes',
        type=int,
        nargs='+',
        default=[63026, 1000000],
        help='bank sizes L')
    parser.add_argument('--modes', nargs='+', default=list(MODES))
    parser.add_argument('--batch-size', type=int, default=64)
    parser.add_argument('--feat-dim', type=int, default=256)
    parser.add_argument('--num-classes', type=int, default=120)
    parser.add_argument('--queue-size', type=int, default=65536)
    parser.add_argument('--repeats', type=int, default=10)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument(
        '--threads',
        type=int,
        default=1,
        help='torch threads per process (sharded: per gloo process)')
    parser.add_argument(
        '--quick', action='store_true', help='tiny sizes, for CI')
    parser.add_argument('--out', help='write the results as JSON here')
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.queue_size = [4096], 2048
        args.feat_dim, args.num_classes = 32, 10
        args.repeats, args.warmup = 2, 1
    torch.set_num_threads(args.threads)
    results = []
    for L in args.sizes:
        for mode in args.modes:
            res = bench_sharded(L, args) if mode == 'sharded' else \
                bench_single(mode, L, args)
            floor = statistics.median(res['times']['floor'])
            total = statistics.median(res['times']['total'])
            res.update(
                L=L, mode=mode, floor=floor, total=total, ratio=total / floor)
            results.append(res)
    print(f'# Memory bank modes ({platform.processor() or platform.machine()}'
          f', torch {torch.__version__}, {args.threads} thread(s) per '
          f'process, B={args.batch_size}, D={args.feat_dim}, counts 128 / '
          f'512 / 512, median of {args.repeats} after {args.warmup} warm-up)'
          '\n')
    print('| L | mode | floor (ms) | forward + backward (ms) | x floor | '
          'bank buffers per rank (MiB) |\n| --- | --- | --- | --- | --- | '
          '--- |')
    for r in results:
        mib = ' / '.join(f'{b / 2**20:.1f}' for b in r['bytes'])
        if r['mirror_bytes']:
            mib += f' (+ {r["mirror_bytes"] / 2**20:.1f} host copy, rank 0)'
        what = {
            'fp32': 'fp32, replicated',
            'fp16': 'fp16 storage',
            'bf16': 'bf16 storage',
            'queue': f'queue, K = {args.queue_size:,} (any L)',
            'sharded': 'fp32, sharded over 2 gloo processes'
        }[r['mode']]
        print(f'| {r["L"]:,} | {what} | {r["floor"] * 1e3:.1f} | '
              f'{r["total"] * 1e3:.1f} | {r["ratio"]:.2f} | {mib} |')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(results, f, indent=2)


if __name__ == '__main__':
    main()
