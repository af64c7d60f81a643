"""Confusion matrices and the most confused class pairs (cp-stn.txt Fig. 4).

Reads one or more ``tools/test.py --dump`` files (several are matched by
sample id and drawn side by side), plots each row-normalised confusion
matrix and writes the top confused (true, predicted) pairs of each run as
markdown and CSV, plus every run's full count matrix as CSV.

Example::

    python tools/analysis/confusion_matrix.py base/scores.pkl \
        csre/scores.pkl --names ST-GCN CSRE --label-map nwucla --top-k 10
"""
import csv
import os.path as osp
from typing import List, Optional

import mmengine

from mmcsre.analysis import (class_names, confusion_matrix, load_runs,
                             markdown_table, predictions, row_normalize,
                             top_confused_pairs, write_tables)
from mmcsre.analysis.cli import add_label_map, base_parser, run, run_names
from mmcsre.analysis.dumps import run_names as file_run_names
from mmcsre.analysis.plotting import plot_confusion
from mmcsre.utils.cli import tool_description


def _safe(name: str) -> str:
    return ''.join(c if c.isalnum() or c in '-_.' else '_' for c in name)


def main(argv: Optional[List[str]] = None) -> None:
    parser = base_parser(tool_description(__doc__))
    parser.add_argument('dumps', nargs='+', help='score dumps')
    parser.add_argument('--names', nargs='+', help='run names')
    add_label_map(parser)
    parser.add_argument(
        '--top-k',
        type=int,
        default=10,
        help='confused pairs listed per run (default: 10)')
    args = parser.parse_args(argv)

    names = run_names(args.names, file_run_names(args.dumps), 'dumps')
    runs = load_runs(args.dumps, names)
    num = runs[0]['scores'].shape[1]
    classes = class_names(num, args.label_map, runs[0].get('classes'),
                          args.dumps[0])
    rows, matrices, written = [], [], []
    mmengine.mkdir_or_exist(args.out_dir)
    for run_, name in zip(runs, names):
        cm = confusion_matrix(run_['labels'], predictions(run_), num)
        matrices.append(row_normalize(cm))
        top1 = cm.trace() / cm.sum()
        for pair in top_confused_pairs(cm, args.top_k, classes):
            rows.append(dict(run=name, **pair))
        path = osp.join(args.out_dir, f'confusion_counts_{_safe(name)}.csv')
        with open(path, 'w', newline='', encoding='utf-8') as f:
            writer = csv.writer(f)
            writer.writerow(['true \\ predicted'] + classes)
            writer.writerows([classes[i]] + cm[i].tolist() for i in range(num))
        written.append(path)
        print(f'{name}: top-1 {100 * top1:.2f} %')
    png = plot_confusion(matrices, classes, [
        f'{n} (mean class accuracy {100 * m.diagonal().mean():.1f} %)'
        for n, m in zip(names, matrices)
    ], osp.join(args.out_dir, 'confusion_matrix.png'))
    md, csv_path = write_tables(
        rows,
        args.out_dir,
        'confusion_matrix',
        title=f'Top {args.top_k} confused class pairs per run',
        notes=[
            'rate = share of the true class\'s samples predicted as the '
            'other class.'
        ])
    print(markdown_table(rows))
    print('wrote ' + ', '.join([png, md, csv_path] + written))


if __name__ == '__main__':
    run(main)
