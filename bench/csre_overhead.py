"""Benchmark: cost of CSRE's memory bank and head (a benchmark, not a test).

In one run, on the current device:

1. ``ContrastiveMemoryBank`` forward+backward at NTU-120 xsub scale
   (L=63,026 slots, B=64, D=256) against the floor of one B x L x D matmul.
2. The same sampling written the way the published CSRE/STD-CL code does it
   (a Python loop over anchors with ``masked_select``, full sorts and
   Python ``random.sample``) as comparator.
3. The CSRE head's share of a full training step of a real backbone
   (mmaction2's ST-GCN): STFDHead vs GCNHead, same batch.
4. Memory held by the banks.

Targets: bank <= 3x the matmul floor; >= 10x faster than the per-anchor
design; head overhead <= 10 % of the step. Prints a markdown table (and
writes JSON with ``--out``); quote medians and ratios from one run.

Example::

    python bench/csre_overhead.py --repeats 7 --out bench/csre_overhead.json
"""
import argparse
import json
import random
import statistics
import time
from typing import Callable, Dict, List

import torch
import torch.nn.functional as F

import mmcsre  # noqa: F401
from mmcsre.models.memory import ContrastiveMemoryBank


def timeit(fn: Callable[[], None],
           repeats: int,
           warmup: int = 1,
           device: str = 'cpu') -> List[float]:
    """Wall times (s) of ``fn``, synchronising CUDA around each call."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        if device == 'cuda':
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if device == 'cuda':
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return times


def filled_bank(L: int, D: int, num_classes: int,
                device: str) -> ContrastiveMemoryBank:
    bank = ContrastiveMemoryBank(L, D).to(device)
    bank.feats.copy_(F.normalize(torch.randn(L, D, device=device), dim=1))
    bank.labels.copy_(torch.randint(num_classes, (L, ), device=device))
    bank.filled.fill_(True)
    return bank


def per_anchor_loss(bank: ContrastiveMemoryBank, feats: torch.Tensor,
                    labels: torch.Tensor,
                    indices: torch.Tensor) -> torch.Tensor:
    """The published code's design: a Python loop over anchors, boolean
    ``masked_select`` per anchor, full sorts, ``random.sample``."""
    query = F.normalize(feats, dim=1)
    losses = []
    for b in range(feats.shape[0]):
        keep = bank.filled.clone()
        keep[indices[b]] = False
        same = bank.labels == labels[b]
        pos_feats = bank.feats[keep & same]
        neg_feats = bank.feats[keep & ~same]
        pos_sim = pos_feats @ query[b]
        neg_sim = neg_feats @ query[b]
        pos_sorted = torch.sort(pos_sim)[0][:bank.num_hard_pos]
        hard_neg = torch.sort(neg_sim, descending=True)[0][:bank.num_hard_neg]
        rand_idx = random.sample(
            range(neg_sim.shape[0]), min(bank.num_rand_neg, neg_sim.shape[0]))
        rand_neg = neg_sim[torch.tensor(rand_idx, device=feats.device)]
        for negs in (hard_neg, rand_neg):
            logits = torch.cat(
                [pos_sorted[:, None], negs[None].expand(len(pos_sorted), -1)],
                1)
            target = torch.zeros(
                len(pos_sorted), dtype=torch.long, device=feats.device)
            losses.append(
                F.cross_entropy(
                    logits / bank.temperature, target, reduction='none'))
    return torch.cat(losses).mean()


def bench_bank(args, device: str) -> Dict[str, float]:
    L, B, D = args.num_samples, args.batch_size, args.feat_dim
    bank = filled_bank(L, D, args.num_classes, device)
    feats = torch.randn(B, D, device=device, requires_grad=True)
    labels = torch.randint(args.num_classes, (B, ), device=device)
    indices = torch.randperm(L, device=device)[:B]

    def floor():
        with torch.no_grad():
            _ = feats @ bank.feats.t()

    # Each call also writes its batch into the bank, as in training.
    def ours():
        bank(feats, labels, indices).backward()

    def theirs():
        per_anchor_loss(bank, feats, labels, indices).backward()

    res = dict(
        floor=statistics.median(timeit(floor, args.repeats, 2, device)),
        bank=statistics.median(timeit(ours, args.repeats, 1, device)),
        per_anchor=statistics.median(
            timeit(theirs, max(1, args.repeats // 3), 0, device)))
    res['bank_bytes'] = sum(b.numel() * b.element_size()
                            for b in bank.buffers())
    return res


def bench_step(args, device: str) -> Dict[str, float]:
    from mmaction.registry import MODELS
    from mmaction.structures import ActionDataSample
    from mmengine.registry import init_default_scope
    init_default_scope('mmaction')
    B, T, V, M = args.step_batch, args.clip_len, 25, 2
    inputs = torch.randn(B, 1, M, T, V, 3, device=device)
    samples = []
    for i in range(B):
        ds = ActionDataSample()
        ds.set_gt_labels(torch.LongTensor([i % args.num_classes]))
        ds.set_metainfo(dict(sample_idx=i))
        samples.append(ds)
    backbone = dict(
        type='STGCN', graph_cfg=dict(layout='nturgb+d', mode='stgcn_spatial'))
    heads = dict(
        baseline=dict(
            type='RecognizerGCN',
            backbone=backbone,
            cls_head=dict(
                type='GCNHead', num_classes=args.num_classes,
                in_channels=256)),
        csre=dict(
            type='MultiStreamRecognizer',
            backbone=backbone,
            cls_head=dict(
                type='STFDHead',
                num_classes=args.num_classes,
                in_channels=256,
                num_joints=V,
                num_frames=T // 4,
                memory_bank=dict(
                    type='ContrastiveMemoryBank',
                    num_samples=args.num_samples))))
    res = {}
    for name, cfg in heads.items():
        torch.manual_seed(0)
        model = MODELS.build(cfg).to(device)
        if name == 'csre':
            for bank in model.cls_head.banks.values():
                bank.feats.copy_(
                    F.normalize(torch.randn_like(bank.feats), dim=1))
                bank.labels.copy_(
                    torch.randint(args.num_classes, bank.labels.shape))
                bank.filled.fill_(True)
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

        def step():
            opt.zero_grad()
            losses = model(inputs, samples, mode='loss')
            sum(v for k, v in losses.items() if 'loss' in k).backward()
            opt.step()

        res[name] = statistics.median(
            timeit(step, args.step_repeats, 1, device))
    return res


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--num-samples', type=int, default=63026)
    parser.add_argument('--batch-size', type=int, default=64)
    parser.add_argument('--feat-dim', type=int, default=256)
    parser.add_argument('--num-classes', type=int, default=120)
    parser.add_argument('--repeats', type=int, default=7)
    parser.add_argument(
        '--step-batch',
        type=int,
        default=16,
        help='batch of the full training step')
    parser.add_argument('--clip-len', type=int, default=64)
    parser.add_argument('--step-repeats', type=int, default=5)
    parser.add_argument('--skip-step', action='store_true')
    parser.add_argument('--out', help='write the results as JSON here')
    args = parser.parse_args()
    torch.manual_seed(0)
    random.seed(0)

    bank = bench_bank(args, args.device)
    rows = [
        ('matmul floor (B x L x D)', bank['floor'], 1.0),
        ('ContrastiveMemoryBank fwd+bwd', bank['bank'],
         bank['bank'] / bank['floor']),
        ('per-anchor design (published code)', bank['per_anchor'],
         bank['per_anchor'] / bank['floor']),
    ]
    result = dict(
        device=args.device,
        torch=torch.__version__,
        threads=torch.get_num_threads(),
        L=args.num_samples,
        B=args.batch_size,
        D=args.feat_dim,
        bank=bank,
        bank_vs_floor=bank['bank'] / bank['floor'],
        speedup_vs_per_anchor=bank['per_anchor'] / bank['bank'])
    print(f'# CSRE overhead ({args.device}, torch {torch.__version__}, '
          f'{torch.get_num_threads()} threads, L={args.num_samples}, '
          f'B={args.batch_size}, D={args.feat_dim})\n')
    print('| what | median (ms) | x floor |\n| --- | --- | --- |')
    for name, t, ratio in rows:
        print(f'| {name} | {t * 1e3:.2f} | {ratio:.2f} |')
    print(f'\nspeed-up over the per-anchor design: '
          f'{result["speedup_vs_per_anchor"]:.1f}x (target >= 10x); bank / '
          f'floor: {result["bank_vs_floor"]:.2f}x (target <= 3x)')
    print(f'memory per bank: {bank["bank_bytes"] / 2**20:.1f} MiB '
          f'(two banks: {2 * bank["bank_bytes"] / 2**20:.1f} MiB)')
    if not args.skip_step:
        step = bench_step(args, args.device)
        share = (step['csre'] - step['baseline']) / step['csre']
        result.update(step=step, head_share=share)
        print(f'\nfull ST-GCN training step (batch {args.step_batch}, '
              f'{args.clip_len} frames, 2 persons, banks of '
              f'{args.num_samples}): baseline {step["baseline"] * 1e3:.0f} '
              f'ms, CSRE {step["csre"] * 1e3:.0f} ms; CSRE head share '
              f'{share * 100:.1f} % (target <= 10 %)')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(result, f, indent=2)


if __name__ == '__main__':
    main()
