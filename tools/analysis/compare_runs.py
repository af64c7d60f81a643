"""Paired comparison of two arms over seeds (baseline vs method).

Runs are paired by position (the i-th baseline and method dumps were
trained with the same seed); samples are matched by id. An item may join
several dumps of one run with commas (e.g. its last five evaluations, as
``tools/run_sweep.py`` writes them): the run is then scored by their mean.

Prints each seed's top-1 of both arms and the difference, McNemar's exact
test per seed, the mean paired difference with a 95 % CI (paired t over
seeds, and a bootstrap over seeds and test samples) and the power reached,
and ends with ``mean difference +X.XX points, 95% CI [LO, HI] (N seeds)``.
Writes ``compare.md``, ``compare.csv``, ``compare.json`` and ``compare.png``
(per-seed differences with the interval) to ``--out``.

Example::

    python tools/analysis/compare_runs.py \
        --baseline base_s0.pkl base_s1.pkl base_s2.pkl \
        --method csre_s0.pkl csre_s1.pkl csre_s2.pkl \
        --names base csre --out work_dirs/compare
"""
import argparse
import json
import os.path as osp
from typing import List, Optional

from mmcsre.analysis.cli import base_parser, run
from mmcsre.analysis.paired import (compare_arms, load_arms, seed_rows,
                                    summary_notes)
from mmcsre.analysis.plotting import plot_paired_differences
from mmcsre.analysis.tables import markdown_table, write_tables
from mmcsre.utils.cli import tool_description


def main(argv: Optional[List[str]] = None) -> None:
    parser = base_parser(tool_description(__doc__))
    parser.add_argument('--out', dest='out_dir', help=argparse.SUPPRESS)
    parser.add_argument(
        '--baseline',
        nargs='+',
        required=True,
        help='baseline dumps, one per seed (comma-join several dumps of a '
        'run to score it by their mean)')
    parser.add_argument(
        '--method',
        nargs='+',
        required=True,
        help='method dumps, paired with --baseline by position')
    parser.add_argument(
        '--names',
        nargs=2,
        default=('baseline', 'method'),
        help='arm names (default: baseline method)')
    parser.add_argument(
        '--seeds', nargs='+', help='seed labels (default: 0, 1, ...)')
    parser.add_argument(
        '--level',
        type=float,
        default=0.95,
        help='confidence level (default: 0.95)')
    parser.add_argument(
        '--bootstrap',
        type=int,
        default=10000,
        help='bootstrap replicates (default: 10000)')
    parser.add_argument(
        '--bootstrap-seed', type=int, default=0, help='(default: 0)')
    parser.add_argument(
        '--effect',
        type=float,
        default=1.0,
        help='gain in points whose detection power is reported (default: '
        '1)')
    parser.add_argument('--no-plot', action='store_true', help='skip the PNG')
    args = parser.parse_args(argv)

    names = tuple(args.names)
    base, method, _ = load_arms(args.baseline, args.method, names)
    result = compare_arms(base, method, args.seeds, args.level, args.bootstrap,
                          args.bootstrap_seed, args.effect)
    rows = seed_rows(result)
    notes = summary_notes(result)
    title = f'{names[1]} vs {names[0]}: paired over seeds'
    md, _ = write_tables(rows, args.out_dir, 'compare', title, notes)
    with open(osp.join(args.out_dir, 'compare.json'), 'w') as f:
        json.dump(result.to_dict(), f, indent=1)
    print(markdown_table(rows))
    print('\n'.join(notes[:-2]))  # the summary line comes last
    if not args.no_plot:
        png = plot_paired_differences(result,
                                      osp.join(args.out_dir, 'compare.png'))
        print(f'wrote {md} and {png}')
    else:
        print(f'wrote {md}')
    print(result.summary_line())


if __name__ == '__main__':
    run(main)
