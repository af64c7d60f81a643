"""Benchmark: what one training iteration of the GPU check costs, measured
here, and the wall time it implies on one GPU (a benchmark, not a test).

For each arm of ``tools/gpu/nwucla_paired_sweep.sh`` (CTR-GCN, CTR-GCN +
CSRE in the official regime) this measures, on the current machine:

1. the operators one training iteration runs (forward, backward and the SGD
   step; leaf ``aten::`` calls in the profiler): on a GPU each is at least one
   kernel launch;
2. the time of one iteration at the recipe's size (batch, 52 frames) and at
   a tiny width (same operators, negligible arithmetic: the dispatch floor);
3. the data pipeline's time per training sample.

From these it estimates the GPU time per run: ``iterations x max(operators x
us_per_op, arithmetic)``, with ``--us-per-op`` the cost of one eager PyTorch
operator on the GPU machine (launch + dispatch; 8 us is typical of an H100
host) and the arithmetic from the FLOPs at ``--tflops`` effective. Prints a
markdown table; quote it with the machine it ran on.

Example::

    python bench/gpu_sweep_budget.py --batch 64 --seeds 2
"""
import argparse
import statistics
import time

import torch
from mmaction.registry import DATASETS, MODELS
from mmaction.structures import ActionDataSample
from mmengine.analysis import FlopAnalyzer
from mmengine.config import Config
from mmengine.registry import init_default_scope
from torch.profiler import ProfilerActivity, profile

import mmcsre  # noqa: F401

ARMS = {
    'CTR-GCN':
    'configs/ctrgcn/ctrgcn_1xb16-joint-65e_nwucla-official-keypoint-3d.py',
    'CTR-GCN + CSRE (official)':
    'configs/csre/ctrgcn-csre-official_1xb16-joint-65e_nwucla-official-'
    'keypoint-3d.py',
}
TRAIN_SAMPLES = 5100  # NW-UCLA training list x5
EPOCHS = 65


def build(config: str, width: int = 0):
    """Model and optimiser of a config; ``width`` > 0 narrows the backbone to
    that base width (same operators)."""
    cfg = Config.fromfile(config)
    if width:
        cfg.model.backbone.base_channels = width
        cfg.model.cls_head.in_channels = 4 * width
    model = MODELS.build(cfg.model)
    for module in model.modules():
        if hasattr(module, 'allocate') and module.num_samples == 0:
            module.allocate(TRAIN_SAMPLES)
    model.init_weights()
    optim = torch.optim.SGD(
        model.parameters(), lr=0.1, momentum=0.9, nesterov=True)
    return cfg, model, optim


def make_step(model, optim, batch: int):
    """A closure running one training iteration on random clips."""
    inputs = [torch.randn(1, 1, 52, 20, 3) for _ in range(batch)]
    samples = []
    for i in range(batch):
        sample = ActionDataSample().set_gt_labels(torch.tensor([i % 10]))
        sample.set_metainfo(dict(sample_idx=i))
        samples.append(sample)

    def step():
        data = model.data_preprocessor(
            dict(inputs=inputs, data_samples=samples), training=True)
        losses = model(**data, mode='loss')
        loss = sum(v for k, v in losses.items() if k.startswith('loss'))
        optim.zero_grad()
        loss.backward()
        optim.step()

    return step


def median_time(step, repeats: int) -> float:
    step()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def count_ops(step) -> int:
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        step()
    return sum(1 for e in prof.events()
               if e.name.startswith('aten::') and not any(
                   c.name.startswith('aten::') for c in e.cpu_children))


def train_flops(model, batch: int) -> float:
    """Forward FLOPs of the backbone and head for one batch, x3 for the
    backward pass."""
    model.eval()
    x = torch.randn(batch, 1, 52, 20, 3)
    with torch.no_grad():
        flops = FlopAnalyzer(model.backbone, (x, )).total()
    model.train()
    return 3.0 * flops


def pipeline_ms(config: str, num: int = 200) -> float:
    cfg = Config.fromfile(config)
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    dataset[0]
    start = time.perf_counter()
    for i in range(num):
        dataset[(i * 7) % len(dataset)]
    return 1000 * (time.perf_counter() - start) / num


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--batch', type=int, default=64)
    parser.add_argument('--seeds', type=int, default=2)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--us-per-op', type=float, default=8.0)
    parser.add_argument('--tflops', type=float, default=20.0)
    parser.add_argument(
        '--no-data', action='store_true', help='skip the pipeline timing')
    args = parser.parse_args()
    init_default_scope('mmaction')
    torch.set_num_threads(1)
    iters = EPOCHS * -(-TRAIN_SAMPLES // args.batch)
    print(f'{iters} iterations per run (batch {args.batch}, {EPOCHS} '
          f'epochs of {TRAIN_SAMPLES}); 1 CPU thread\n')
    print('| arm | operators / iteration | s / iteration here (full) | '
          's / iteration here (tiny width) | training GFLOPs / iteration | '
          'estimated GPU min / run |')
    print('| --- | --- | --- | --- | --- | --- |')
    per_run = []
    for name, config in ARMS.items():
        _, model, optim = build(config)
        step = make_step(model, optim, args.batch)
        full = median_time(step, args.repeats)
        ops = count_ops(step)
        flops = train_flops(model, args.batch)
        _, tiny_model, tiny_optim = build(config, width=16)
        tiny = median_time(make_step(tiny_model, tiny_optim, 1), 10)
        gpu_iter = max(ops * args.us_per_op * 1e-6,
                       flops / (args.tflops * 1e12))
        per_run.append(iters * gpu_iter / 60)
        print(f'| {name} | {ops} | {full:.2f} | {tiny:.3f} | '
              f'{flops / 1e9:.0f} | {per_run[-1]:.1f} |')
    if not args.no_data:
        ms = pipeline_ms(ARMS['CTR-GCN'])
        print(f'\ndata pipeline: {ms:.2f} ms per training sample '
              f'({ms * args.batch:.0f} ms per batch of {args.batch})')
    total = args.seeds * sum(per_run)
    print(f'\n{args.seeds} paired seeds: {total:.1f} GPU-minutes if the '
          'GPU serialises the jobs\' kernels, '
          f'{max(per_run):.1f} min if they overlap fully')


if __name__ == '__main__':
    main()
