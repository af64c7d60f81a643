"""Per-class accuracy difference between two runs (csre.txt Fig. 5).

Reads two ``tools/test.py --dump`` files of the same test set (samples are
matched by id), plots the classes whose top-1 accuracy changes by more
than a threshold and writes every class's accuracies as markdown and CSV.
With ``--group-size`` it also compares FR Head's ambiguous groups
(fr-head.md Fig. 4): each class with the classes the reference run most
often confuses it with, scored by their mean class accuracy.

Example::

    python tools/analysis/class_accuracy_diff.py base/scores.pkl \
        csre/scores.pkl --names ST-GCN CSRE --label-map nwucla \
        --threshold 3 --out-dir work_dirs/analysis
"""
import os.path as osp
from typing import List, Optional

import numpy as np

from mmcsre.analysis import (accuracy_changes, ambiguous_groups, class_names,
                             confusion_matrix, group_accuracy, load_runs,
                             per_class_accuracy, predictions, write_tables)
from mmcsre.analysis.cli import add_label_map, base_parser, run, run_names
from mmcsre.analysis.dumps import run_names as file_run_names
from mmcsre.analysis.per_class import class_support, diff_rows
from mmcsre.analysis.plotting import plot_accuracy_changes
from mmcsre.utils.cli import tool_description


def main(argv: Optional[List[str]] = None) -> None:
    parser = base_parser(tool_description(__doc__))
    parser.add_argument('reference', help='dump of the reference run')
    parser.add_argument('other', help='dump of the compared run')
    parser.add_argument(
        '--names', nargs=2, help='run names (default: from the paths)')
    add_label_map(parser)
    parser.add_argument(
        '--threshold',
        type=float,
        default=3.0,
        help='plot classes whose accuracy changes by more than this many '
        'points (default: 3, as csre.txt Fig. 5)')
    parser.add_argument(
        '--group-size',
        type=int,
        default=0,
        help='also compare ambiguous groups of each class and its N most '
        'confused classes in the reference run (FR Head uses 3; default: '
        'off)')
    args = parser.parse_args(argv)

    paths = [args.reference, args.other]
    names = run_names(args.names, file_run_names(paths), 'dumps')
    ref, other = load_runs(paths, names)
    labels = ref['labels']
    num = ref['scores'].shape[1]
    classes = class_names(num, args.label_map, ref.get('classes'),
                          args.reference)
    ref_acc = per_class_accuracy(labels, predictions(ref), num)
    other_acc = per_class_accuracy(labels, predictions(other), num)
    support = class_support(labels, num)

    picked = accuracy_changes(ref_acc, other_acc, args.threshold / 100)
    png = plot_accuracy_changes([classes[i] for i in picked],
                                100 * (other_acc - ref_acc)[picked],
                                (names[0], names[1]),
                                'Classes whose top-1 accuracy changes by '
                                f'more than {args.threshold:g} points',
                                osp.join(args.out_dir,
                                         'class_accuracy_diff.png'))
    order = accuracy_changes(ref_acc, other_acc, -1.0)  # all, by change
    order = order[~np.isnan(ref_acc[order])]
    top1 = [float((predictions(d) == labels).mean()) for d in (ref, other)]
    notes = [
        f'{len(labels)} samples, {num} classes; top-1: {names[0]} '
        f'{100 * top1[0]:.2f} %, {names[1]} {100 * top1[1]:.2f} %.',
        f'{len(picked)} classes change by more than {args.threshold:g} '
        'points (plotted); change = '
        f'{names[1]} minus {names[0]}.'
    ]
    md, csv = write_tables(
        diff_rows(classes, support, ref_acc, other_acc, names, order),
        args.out_dir,
        'class_accuracy_diff',
        title=f'Per-class top-1 accuracy: {names[0]} vs {names[1]}',
        notes=notes)
    written = [png, md, csv]
    if args.group_size > 0:
        written += _groups(args, ref, ref_acc, other_acc, classes, names)
    print('\n'.join(notes))
    print('wrote ' + ', '.join(written))


def _groups(args, ref, ref_acc, other_acc, classes, names) -> List[str]:
    """FR Head's ambiguous groups, every class as an anchor."""
    num = len(classes)
    cm = confusion_matrix(ref['labels'], predictions(ref), num)
    groups = ambiguous_groups(cm, args.group_size)
    ref_g = group_accuracy(ref_acc, groups)
    other_g = group_accuracy(other_acc, groups)
    change = 100 * (other_g - ref_g)
    order = np.argsort(-change, kind='stable')
    rows = [{
        'anchor': classes[groups[i][0]],
        'confused with': '; '.join(classes[c] for c in groups[i][1:]),
        f'{names[0]} (%)': round(100 * float(ref_g[i]), 2),
        f'{names[1]} (%)': round(100 * float(other_g[i]), 2),
        'change (points)': round(float(change[i]), 2)
    } for i in order]
    png = plot_accuracy_changes(
        [classes[groups[i][0]] + ' group'
         for i in order], change[order], (names[0], names[1]),
        f'Ambiguous groups (anchor + {args.group_size} most confused)',
        osp.join(args.out_dir, 'ambiguous_groups.png'))
    md, csv = write_tables(
        rows,
        args.out_dir,
        'ambiguous_groups',
        title='Group-wise accuracy of ambiguous groups (fr-head.md Fig. 4)',
        notes=[
            f'Group = anchor + the {args.group_size} classes its samples '
            f'are most often predicted as by {names[0]}; accuracy = mean '
            'class accuracy of the group.'
        ])
    return [png, md, csv]


if __name__ == '__main__':
    run(main)
