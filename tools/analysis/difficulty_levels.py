"""Accuracy per difficulty level (csre.txt Table 7, fr-head.md Table 4).

Classes are bucketed by the reference run's (the first dump's) per-class
top-1 accuracy; each run's accuracy over the samples of each bucket is
reported. CSRE uses thresholds 90/80 (Easy >= 90 %, Medium 80-90 %, Hard
< 80 %), FR Head 90/70. Dumps are matched by sample id.

Example::

    python tools/analysis/difficulty_levels.py base/scores.pkl \
        csre/scores.pkl --names ST-GCN CSRE --thresholds 90 80 \
        --label-map nwucla --out-dir work_dirs/analysis
"""
import os.path as osp
from typing import List, Optional

import numpy as np

from mmcsre.analysis import (class_names, difficulty_levels, level_names,
                             load_runs, markdown_table, per_class_accuracy,
                             predictions, write_tables)
from mmcsre.analysis.cli import add_label_map, base_parser, run, run_names
from mmcsre.analysis.difficulty import level_rows
from mmcsre.analysis.dumps import run_names as file_run_names
from mmcsre.analysis.plotting import plot_grouped_bars
from mmcsre.utils.cli import tool_description


def main(argv: Optional[List[str]] = None) -> None:
    parser = base_parser(tool_description(__doc__))
    parser.add_argument(
        'dumps',
        nargs='+',
        help='score dumps; the first is the reference that sets the levels')
    parser.add_argument('--names', nargs='+', help='run names')
    parser.add_argument(
        '--thresholds',
        nargs='+',
        type=float,
        default=[90.0, 80.0],
        help='per-class accuracy thresholds in %% (default: 90 80 as CSRE; '
        'FR Head: 90 70)')
    parser.add_argument(
        '--level-names',
        nargs='+',
        help='level names, hardest first (default: Hard Medium Easy)')
    add_label_map(parser)
    args = parser.parse_args(argv)

    names = run_names(args.names, file_run_names(args.dumps), 'dumps')
    runs = load_runs(args.dumps, names)
    labels = runs[0]['labels']
    num = runs[0]['scores'].shape[1]
    classes = class_names(num, args.label_map, runs[0].get('classes'),
                          args.dumps[0])
    ref_acc = per_class_accuracy(labels, predictions(runs[0]), num)
    levels = difficulty_levels(ref_acc, args.thresholds)
    lnames = level_names(args.thresholds, args.level_names)
    for run_ in runs:
        run_['preds'] = predictions(run_)
    rows = level_rows(runs, levels, lnames)

    counts = np.bincount(levels, minlength=len(lnames))
    samples = np.bincount(levels[labels], minlength=len(lnames))
    edges = sorted(args.thresholds)
    notes = [
        f'Levels from {names[0]}\'s per-class top-1 accuracy, thresholds '
        f'{", ".join(f"{t:g}" for t in edges)} % (a class at a threshold '
        'goes to the easier level); accuracy = top-1 over the samples of '
        'the level\'s classes.', ''
    ]
    for j, lname in enumerate(lnames):
        members = [
            f'{classes[i]} ({100 * ref_acc[i]:.1f})'
            for i in np.flatnonzero(levels == j)
        ]
        notes.append(
            f'- {lname}: {counts[j]} class(es), {samples[j]} samples: ' +
            (', '.join(members) or 'none'))
    png = plot_grouped_bars(
        [f'{n}\n({c} classes)' for n, c in zip(lnames, counts)], {
            r['name']: [row[f'{n} (%)'] for n in lnames]
            for r, row in zip(runs, rows)
        },
        ylabel='top-1 accuracy (%)',
        xlabel=f'difficulty level ({names[0]} class accuracy, thresholds '
        f'{"/".join(f"{t:g}" for t in edges[::-1])} %)',
        title=f'Accuracy per difficulty level (levels from {names[0]})',
        path=osp.join(args.out_dir, 'difficulty_levels.png'))
    md, csv = write_tables(
        rows,
        args.out_dir,
        'difficulty_levels',
        title='Accuracy on different difficulty levels',
        notes=notes)
    print(markdown_table(rows))
    print('\n'.join(notes))
    print(f'wrote {png}, {md}, {csv}')


if __name__ == '__main__':
    run(main)
