"""Parameters and FLOPs of configs' models at test time and in training.

Test time is the model without its training-only modules (what
tools/strip_checkpoint.py keeps): a CSRE model must equal its baseline
there. Training counts every parameter and buffer (memory banks included)
and the FLOPs of the loss forward. FLOPs are per sample, counted by
mmengine's FlopAnalyzer (one multiply-add = one FLOP) on the first test
and training samples of each config, or on ``--input-shape``.

Example::

    python tools/analysis/model_complexity.py BASELINE_CONFIG CSRE_CONFIG \
        --names ST-GCN CSRE --out-dir work_dirs/analysis
"""
import os.path as osp
from typing import List, Optional

from mmengine.config import DictAction

from mmcsre.analysis import markdown_table, model_complexity, write_tables
from mmcsre.analysis.cli import base_parser, run, run_names
from mmcsre.analysis.plotting import compact_labels, plot_grouped_bars
from mmcsre.utils.cli import tool_description


def main(argv: Optional[List[str]] = None) -> None:
    parser = base_parser(tool_description(__doc__))
    parser.add_argument('configs', nargs='+', help='config files')
    parser.add_argument('--names', nargs='+', help='model names')
    parser.add_argument(
        '--input-shape',
        nargs=5,
        type=int,
        metavar=('CLIPS', 'M', 'T', 'V', 'C'),
        help='one sample\'s input instead of the configs\' first samples '
        '(then models with memory banks need --num-train-samples)')
    parser.add_argument(
        '--num-train-samples',
        type=int,
        help='memory-bank size (default: the training set\'s length)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override entries of every config')
    args = parser.parse_args(argv)

    default = [osp.splitext(osp.basename(c))[0] for c in args.configs]
    names = run_names(args.names, default, 'configs')
    rows, results = [], []
    for config, name in zip(args.configs, names):
        print(f'{name}: counting...')
        res = model_complexity(config, args.input_shape,
                               args.num_train_samples, args.cfg_options)
        results.append(res)
        for phase in ('test', 'train'):
            rows.append({
                'model':
                name,
                'phase':
                'test time' if phase == 'test' else 'training',
                'params':
                res['params'][phase],
                'buffer numbers':
                res['buffers'][phase],
                'MFLOPs / sample':
                round(res['flops'][phase] / 1e6, 2),
                'input (clips, M, T, V, C)':
                'x'.join(str(s) for s in res['input_shape']),
            })
    uncounted = sorted({op for r in results for op in r['uncounted_ops']})
    notes = [
        'Test time = without each model\'s training-only modules (' +
        '; '.join(f'{n}: {", ".join(r["training_only"]) or "none"}'
                  for n, r in zip(names, results)) + '). Training FLOPs = the '
        'loss forward pass (backward not counted). One multiply-add = one '
        'FLOP (mmengine FlopAnalyzer).',
        'Operators not counted (element-wise, sorting, sampling): ' +
        (', '.join(uncounted) or 'none') + '.'
    ]
    # Config names are long and share most words: drop those, wrap the
    # rest and turn the labels so that they do not overlap.
    labels, shared = compact_labels(names, strip_shared=args.names is None)
    longest = max(len(line) for label in labels for line in label.split('\n'))
    rotation = 30 if len(labels) > 1 and longest > 10 else 0
    panels = [
        dict(
            categories=labels,
            series={
                phase: [r[key][phase] / 1e6 for r in results]
                for phase in ('test', 'train')
            },
            ylabel=ylabel,
            title=title,
            value_format='{:.3f}',
            xlabel=shared,
            tick_rotation=rotation)
        for key, ylabel, title in (('params', 'parameters (M)', 'Parameters'),
                                   ('buffers', 'buffers (M numbers)',
                                    'Buffers (BN stats, banks)'),
                                   ('flops', 'MFLOPs per sample',
                                    'FLOPs per sample'))
    ]
    for panel in panels:
        panel['series'] = {
            'test time' if k == 'test' else 'training': v
            for k, v in panel['series'].items()
        }
    png = plot_grouped_bars(
        names, {},
        '',
        'Model complexity: test time vs training',
        osp.join(args.out_dir, 'model_complexity.png'),
        axes=panels)
    md, csv = write_tables(
        rows,
        args.out_dir,
        'model_complexity',
        title='Model complexity',
        notes=notes)
    print(markdown_table(rows))
    print('\n'.join(notes))
    print(f'wrote {png}, {md}, {csv}')


if __name__ == '__main__':
    run(main)
