"""Check a skeleton pickle (ours or pyskl's) before training on it.

Reports per split: sample count, classes, frame-length range, persons and
joints; stops at the first malformed sample with a message naming it.

Example::

    python tools/data/check_pkl.py data/skeleton/ntu60_3danno.pkl \
        --num-classes 60 --layout nturgb+d
"""
import argparse
from collections import Counter

import numpy as np

from mmcsre.datasets import (AnnotationError, load_skeleton_pickle,
                             select_split, validate_annotations)
from mmcsre.structures import get_layout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('ann_file', help='.pkl file')
    parser.add_argument(
        '--split', nargs='+', help='splits to check (default: all)')
    parser.add_argument('--num-classes', type=int, help='labels must be < N')
    parser.add_argument('--layout', help="expected layout, e.g. 'nw-ucla'")
    args = parser.parse_args()

    data = load_skeleton_pickle(args.ann_file)
    num_joints = get_layout(args.layout).num_node if args.layout else None
    splits = args.split or sorted(data.get('split', {})) or [None]
    for split in splits:
        if split is None:
            annos = data['annotations']
        else:
            annos = select_split(data, split, args.ann_file)
        source = args.ann_file + ('' if split is None else f' [{split}]')
        validate_annotations(annos, source, args.num_classes, num_joints)
        frames = np.array([a['keypoint'].shape[1] for a in annos])
        persons = Counter(a['keypoint'].shape[0] for a in annos)
        joints = Counter(a['keypoint'].shape[2] for a in annos)
        labels = Counter(int(a['label']) for a in annos)
        print(f'{split or "all"}: {len(annos)} samples, {len(labels)} '
              f'classes (labels {min(labels)}-{max(labels)}), frames '
              f'{frames.min()}-{frames.max()} (median '
              f'{int(np.median(frames))}), persons {dict(persons)}, joints '
              f'{dict(joints)}, C={annos[0]["keypoint"].shape[3]}')
    print('OK')


if __name__ == '__main__':
    try:
        main()
    except (AnnotationError, FileNotFoundError) as err:
        raise SystemExit(f'error: {err}')
