"""Convert NW-UCLA (``all_sqe`` folder or zip) to a pyskl-style pickle.

Example::

    python tools/data/nwucla/nwucla_to_pkl.py \
        ../shared/data/nw-ucla/all_sqe.zip data/skeleton/nwucla_3d.pkl
"""
import argparse
from collections import Counter
from typing import List, Optional

from mmcsre.datasets import AnnotationError
from mmcsre.datasets.converters.nwucla import CLASSES, convert_nwucla
from mmcsre.utils.cli import run_cli, tool_description


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=tool_description(__doc__))
    parser.add_argument('source', help='all_sqe folder or zip')
    parser.add_argument('out_file', help='output .pkl')
    parser.add_argument('--no-progress', action='store_true')
    args = parser.parse_args(argv)
    data = convert_nwucla(
        args.source, args.out_file, progress=not args.no_progress)
    labels = Counter(a['label'] for a in data['annotations'])
    print(f'wrote {args.out_file}: ' +
          ', '.join(f'{k}={len(v)}' for k, v in data['split'].items()) +
          f', {len(labels)} classes, V=20')
    for label in sorted(labels):
        print(f'  {label}: {CLASSES[label]:<24s} {labels[label]}')


if __name__ == '__main__':
    run_cli(main, errors=(AnnotationError, ))
