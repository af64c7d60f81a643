"""Convert ST-GCN's Kinetics-skeleton release to a pyskl-style pickle.

Example::

    python tools/data/kinetics/kinetics_to_pkl.py \\
        data/kinetics-skeleton data/skeleton/kinetics400_2d.pkl
"""
import argparse

from mmcsre.datasets.converters.kinetics import SPLITS, convert_kinetics
from mmcsre.datasets.validation import AnnotationError
from mmcsre.utils.cli import run_cli, tool_description


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=tool_description(__doc__))
    parser.add_argument(
        'root',
        help='kinetics-skeleton folder (kinetics_train/, kinetics_val/ and '
        'the two kinetics_*_label.json)')
    parser.add_argument('out_file', help='output .pkl')
    parser.add_argument(
        '--splits',
        nargs='+',
        default=list(SPLITS),
        choices=SPLITS,
        help='splits to convert (default: train val); one at a time needs '
        'less memory')
    parser.add_argument(
        '--max-persons',
        type=int,
        default=2,
        help='persons kept per frame, highest summed score first (default: '
        '2)')
    parser.add_argument('--no-progress', action='store_true')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    data, stats = convert_kinetics(
        args.root,
        args.out_file,
        splits=args.splits,
        max_persons=args.max_persons,
        progress=not args.no_progress,
        return_stats=True)
    print(f"wrote {args.out_file}: {len(data['annotations'])} samples, "
          f'V=18, 2D + score')
    for split in args.splits:
        print(f'  {split}: {stats[split]} kept, '
              f"{stats[split + '_skipped_no_skeleton']} skipped "
              f"(has_skeleton false), {stats[split + '_skipped_empty']} "
              'skipped (no person in any frame)')


if __name__ == '__main__':
    run_cli(main, errors=(AnnotationError, ))
