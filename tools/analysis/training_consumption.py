"""Training consumption of configs side by side (csre.txt Table 8): peak memory
and time per iteration and per epoch.

Each config's real training loop (data, optimizer, hooks such as the
memory-bank initialisation) runs for ``--warmup + --iters`` iterations in
a fresh process; the median time of the timed iterations (data loading
included) times the iterations per epoch estimates an epoch. Peak memory
is CUDA's ``max_memory_allocated`` on a GPU, else the process's peak RSS
(data loader workers excluded). Run it on an otherwise idle machine.

Example::

    python tools/analysis/training_consumption.py BASELINE_CONFIG \
        CSRE_CONFIG --names ST-GCN CSRE --iters 20
"""
import os.path as osp
from typing import List, Optional

from mmengine.config import DictAction

from mmcsre.analysis import (markdown_table, measure_in_subprocess,
                             measure_training, write_tables)
from mmcsre.analysis.cli import base_parser, run, run_names
from mmcsre.analysis.consumption import duration_unit, format_duration
from mmcsre.analysis.plotting import plot_grouped_bars
from mmcsre.utils.cli import tool_description

GIB = 1024**3


def main(argv: Optional[List[str]] = None) -> None:
    parser = base_parser(tool_description(__doc__))
    parser.add_argument('configs', nargs='+', help='config files')
    parser.add_argument('--names', nargs='+', help='model names')
    parser.add_argument(
        '--iters', type=int, default=20, help='timed iterations (20)')
    parser.add_argument(
        '--warmup', type=int, default=3, help='untimed iterations (3)')
    parser.add_argument(
        '--same-process',
        action='store_true',
        help='run every config in this process (faster to start, but peak '
        'host memory then accumulates over configs)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override entries of every config, e.g. '
        'train_dataloader.num_workers=4')
    args = parser.parse_args(argv)

    default = [osp.splitext(osp.basename(c))[0] for c in args.configs]
    names = run_names(args.names, default, 'configs')
    measure = measure_training if args.same_process else \
        measure_in_subprocess
    results, rows = [], []
    for config, name in zip(args.configs, names):
        print(f'{name}: {args.warmup} + {args.iters} training iterations')
        res = measure(
            config,
            iters=args.iters,
            warmup=args.warmup,
            cfg_options=args.cfg_options)
        results.append(res)
        rows.append({
            'model':
            name,
            'device':
            res['device'],
            'batch':
            res['batch_size'],
            'peak memory (GiB)':
            round(res['peak_memory'] / GIB, 3),
            'time / iter (s)':
            round(res['time_per_iter'], 3),
            'train step / iter (s)':
            round(res['step_time_per_iter'], 3),
            'iters / epoch':
            res['iters_per_epoch'],
            'time / epoch':
            format_duration(res['time_per_epoch']),
        })
    kinds = sorted({r['memory_kind'] for r in results})
    notes = [
        f'Peak memory: {" / ".join(kinds)}. Times: median over '
        f'{args.iters} iterations after {args.warmup} warm-up '
        'iteration(s); time '
        '/ iter includes data loading, train step is forward + backward + '
        'optimizer; time / epoch = time / iter x iters / epoch.'
    ]
    epochs = [r['time_per_epoch'] for r in results]
    scale, unit, epoch_format = duration_unit(epochs)
    panels = [
        dict(
            categories=names,
            series={'': [r['peak_memory'] / GIB for r in results]},
            ylabel='peak memory (GiB)',
            title=kinds[0] if len(kinds) == 1 else 'peak memory',
            value_format='{:.2f}'),
        dict(
            categories=names,
            series={'': [t / scale for t in epochs]},
            ylabel=f'time per epoch ({unit}, estimated)',
            title='time per epoch',
            value_format=epoch_format),
    ]
    png = plot_grouped_bars(
        names, {},
        '',
        f'Training consumption ({results[0]["device"]})',
        osp.join(args.out_dir, 'training_consumption.png'),
        axes=panels)
    md, csv = write_tables(
        rows,
        args.out_dir,
        'training_consumption',
        title='Training consumption',
        notes=notes)
    print(markdown_table(rows))
    print('\n'.join(notes))
    print(f'wrote {png}, {md}, {csv}')


if __name__ == '__main__':
    run(main)
