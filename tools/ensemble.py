"""Fuse per-sample score dumps of several streams (or models).

Samples are matched by id (``frame_dir``); duplicated or mismatched ids,
differing labels, class counts or class names (the dumps' ``classes``) and
NaN/inf scores are errors, never a silent misalignment. Each dump is
converted to the fusion score space first. Dumps are read with
:func:`mmcsre.fileio.safe_pickle_load`: a pickle that names anything but
plain containers, numbers, strings and numpy arrays is refused, never run.

Examples::

    # 2S (J + B), 1:1
    python tools/ensemble.py j.pkl b.pkl --preset 2s
    # 4S (J, B, JM, BM), 2:2:1:1, written as markdown and JSON
    python tools/ensemble.py j.pkl b.pkl jm.pkl bm.pkl --preset 4s \
        --out-md fusion.md --out-json fusion.json
    # custom weights, fused in logit space
    python tools/ensemble.py a.pkl b.pkl --weights 0.7 0.3 --space logit
"""
import argparse
import json
from typing import List, Optional

from mmcsre.analysis.dumps import run_names
from mmcsre.evaluation.fusion import (WEIGHT_PRESETS, FusionError,
                                      check_classes, fuse, load_score_dump,
                                      markdown_table)
from mmcsre.utils.cli import run_cli, tool_description


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=tool_description(__doc__))
    parser.add_argument('dumps', nargs='+', help='tools/test.py --dump files')
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        '--preset',
        choices=sorted(WEIGHT_PRESETS),
        help='2s = 1:1; 4s = 2:2:1:1 (J:B:JM:BM); 4s-ctrgcn = '
        '0.6:0.6:0.4:0.4')
    group.add_argument('--weights', nargs='+', type=float)
    parser.add_argument(
        '--names',
        nargs='+',
        help='stream names (default: the folder of a .../NAME/scores.pkl '
        'dump, as tools/train_streams.py writes them, else the file name)')
    parser.add_argument(
        '--space',
        choices=['prob', 'logit'],
        default='prob',
        help='score space to fuse in (default: prob)')
    parser.add_argument('--out-md', help='write the table as markdown')
    parser.add_argument('--out-json', help='write the table as JSON')
    args = parser.parse_args(argv)

    if args.preset:
        weights = WEIGHT_PRESETS[args.preset]
    else:
        weights = args.weights or [1.0] * len(args.dumps)
    names = args.names or run_names(args.dumps)
    if len(names) != len(args.dumps):
        raise FusionError(f'{len(names)} names for {len(args.dumps)} dumps')
    dumps = [load_score_dump(p) for p in args.dumps]
    check_classes(dumps, args.dumps)  # quoting the files, not the names
    result = fuse(dumps, weights, names, args.space)
    table = markdown_table(result['rows'])
    print(f'{len(result["labels"])} samples, fused in {args.space} space\n')
    print(table)
    if args.out_md:
        with open(args.out_md, 'w') as f:
            f.write(table + '\n')
    if args.out_json:
        with open(args.out_json, 'w') as f:
            json.dump(
                dict(
                    num_samples=len(result['labels']),
                    space=args.space,
                    dumps=list(args.dumps),
                    rows=result['rows']),
                f,
                indent=2)


if __name__ == '__main__':
    run_cli(main, errors=(FusionError, ))
