"""Convert raw NTU RGB+D 60/120 ``.skeleton`` files to a pyskl-style pickle
with the standard train/val splits.

Example::

    python tools/data/ntu/ntu_skeleton_to_pkl.py \\
        data/nturgb+d_skeletons data/ntu60_3danno.pkl --benchmark ntu60
"""
import argparse

from mmcsre.datasets.converters.ntu import convert_ntu
from mmcsre.datasets.validation import AnnotationError
from mmcsre.utils.cli import run_cli, tool_description


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=tool_description(__doc__))
    parser.add_argument(
        'skeleton_dir',
        help='folder of .skeleton files (searched '
        'recursively)')
    parser.add_argument('out_file', help='output pickle, e.g. ntu60.pkl')
    parser.add_argument(
        '--benchmark',
        required=True,
        choices=['ntu60', 'ntu120'],
        help='ntu60 keeps setups S001-S017 and actions A001-A060 only')
    parser.add_argument(
        '--missing-list',
        default=None,
        help='text file of samples to skip, one name a line, or "none"; '
        'default: the list published by the dataset authors')
    parser.add_argument(
        '--max-bodies',
        type=int,
        default=2,
        help='largest number of actors per sample (default: 2)')
    parser.add_argument(
        '--no-denoise',
        action='store_true',
        help='skip the length/spread noise filters, only keep the most '
        'active bodies')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    _, stats = convert_ntu(
        args.skeleton_dir,
        args.out_file,
        benchmark=args.benchmark,
        missing_list=args.missing_list,
        max_bodies=args.max_bodies,
        denoise=not args.no_denoise,
        progress=True,
        return_stats=True)
    print(f"Wrote {stats['num_samples']} samples to {args.out_file}")
    for name, count in stats['splits'].items():
        print(f'  {name}: {count}')
    print(f"Skipped: {stats['skipped_missing_list']} in the missing list, "
          f"{stats['skipped_empty']} without skeleton, "
          f"{stats['skipped_benchmark']} not in {args.benchmark} "
          f"(of {stats['num_files']} .skeleton files)")
    for name in stats['empty_files']:
        print(f'  no skeleton: {name}')


if __name__ == '__main__':
    run_cli(main, errors=(AnnotationError, ))
