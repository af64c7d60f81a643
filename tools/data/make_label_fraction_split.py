"""Add class-balanced label-fraction splits to a copy of a skeleton pickle.

For every fraction f (percent) the output gets a split ``<split>_<f>pct``
(e.g. ``train_10pct``): each class of ``--split`` keeps
``max(1, round_half_up(f / 100 * its count))`` samples. Subsets are nested
(1 % inside 5 % inside 10 % ...) and depend only on ``--seed``. The input
file is never modified, and is read with
:func:`mmcsre.fileio.safe_pickle_load` (a pickle naming anything but plain
data is refused, never run).

Example (the semi-supervised NW-UCLA configs read this file)::

    python tools/data/make_label_fraction_split.py \
        data/skeleton/nwucla_3d.pkl data/skeleton/nwucla_3d_fractions.pkl \
        --fractions 1 5 10 20 30 40 50 --seed 0 --split train
"""
import argparse
import os.path as osp
import pickle
from typing import List, Optional

import numpy as np

from mmcsre.datasets import (AnnotationError, add_label_fraction_splits,
                             fraction_split_name, load_skeleton_pickle,
                             select_split)
from mmcsre.utils.cli import CLIError, require_file, run_cli, tool_description


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=tool_description(__doc__))
    parser.add_argument('in_file', help='input .pkl (pyskl format)')
    parser.add_argument('out_file', help='output .pkl (a new file)')
    parser.add_argument(
        '--fractions',
        type=float,
        nargs='+',
        default=[1, 5, 10, 20, 30, 40, 50],
        help='label fractions in percent, in (0, 100] (default: 1 5 10 20 '
        '30 40 50)')
    parser.add_argument(
        '--seed', type=int, default=0, help='subset seed (default: 0)')
    parser.add_argument(
        '--split', default='train', help='split to subsample (default: train)')
    args = parser.parse_args(argv)

    if osp.abspath(args.in_file) == osp.abspath(args.out_file):
        raise CLIError(f'{args.out_file}: OUT must differ from IN (the input '
                       'is never modified)')
    require_file(args.in_file, 'annotation file')
    data = load_skeleton_pickle(args.in_file)
    try:
        out = add_label_fraction_splits(data, args.fractions, args.seed,
                                        args.split, args.in_file)
    except ValueError as err:  # bad --fractions or --split
        raise CLIError(str(err)) from err
    with open(args.out_file, 'wb') as f:
        pickle.dump(out, f, protocol=pickle.HIGHEST_PROTOCOL)

    total = len(select_split(data, args.split, args.in_file))
    print(f'{args.out_file}: {args.split} has {total} samples; added '
          f'(seed {args.seed}):')
    for fraction in args.fractions:
        name = fraction_split_name(args.split, fraction)
        annos = select_split(out, name, args.out_file)
        per_class = np.bincount([int(a['label']) for a in annos])
        per_class = per_class[per_class > 0]
        print(f'  {name}: {len(annos)} samples, {len(per_class)} classes, '
              f'{per_class.min()}-{per_class.max()} per class')


if __name__ == '__main__':
    run_cli(main, errors=(AnnotationError, ))
