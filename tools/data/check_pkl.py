"""Check a skeleton pickle (ours or pyskl's) before training on it.

Reports per split: sample count, classes, frame-length range, persons and
joints; stops at the first malformed sample with a message naming it (its
index in the split and in the file, and its ``frame_dir``). A file without
a ``split`` dict is checked as one list of annotations (and says so).

The file is read with :func:`mmcsre.fileio.safe_pickle_load`: a pickle that
names anything but plain containers, numbers, strings and numpy arrays is
refused, never run.

Example::

    python tools/data/check_pkl.py data/skeleton/ntu60_3danno.pkl \
        --num-classes 60 --layout nturgb+d
"""
import argparse
from collections import Counter
from typing import Dict, List, Optional

import numpy as np

from mmcsre.datasets import (AnnotationError, load_skeleton_pickle,
                             split_positions, validate_annotations)
from mmcsre.structures import get_layout
from mmcsre.utils.cli import require_file, run_cli, tool_description


def duplicated_ids(annos: List[Dict], source: str) -> None:
    """Raise if two annotations of the file share a ``frame_dir``, quoting both
    indices in the file."""
    seen = {}
    for i, anno in enumerate(annos):
        key = anno.get('frame_dir') if isinstance(anno, dict) else None
        if key is None:
            continue
        if key in seen:
            raise AnnotationError(
                f'{source}: index {i} in the file, frame_dir={key!r}: '
                f'duplicated frame_dir, first seen at index {seen[key]}')
        seen[key] = i


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=tool_description(__doc__))
    parser.add_argument('ann_file', help='.pkl file')
    parser.add_argument(
        '--split', nargs='+', help='splits to check (default: all)')
    parser.add_argument('--num-classes', type=int, help='labels must be < N')
    parser.add_argument('--layout', help="expected layout, e.g. 'nw-ucla'")
    args = parser.parse_args(argv)

    require_file(args.ann_file, 'annotation file')
    data = load_skeleton_pickle(args.ann_file)
    num_joints = get_layout(args.layout).num_node if args.layout else None
    has_split = 'split' in data
    if has_split and not isinstance(data['split'], dict):
        raise AnnotationError(
            f"{args.ann_file}: 'split' must be a dict of id lists, got "
            f"{type(data['split']).__name__}")
    if args.split and not has_split:
        raise AnnotationError(
            f"{args.ann_file} has no 'split' dict, so --split "
            f'{" ".join(args.split)} cannot be checked (a pyskl pickle is '
            '{"split": ..., "annotations": ...}; leave out --split to check '
            'all annotations)')
    splits = args.split or sorted(data.get('split') or {}) or [None]
    if splits == [None]:
        reason = 'an empty' if has_split else "no 'split'"
        print(f'note: {args.ann_file} has {reason} dict; checked all '
              'annotations')
    annos = data['annotations']
    if isinstance(annos, (list, tuple)):
        duplicated_ids(annos, args.ann_file)
    for split in splits:
        if split is None:
            positions = None
        else:
            positions = split_positions(data, split, args.ann_file)
            annos = [data['annotations'][i] for i in positions]
        source = args.ann_file + ('' if split is None else f' [{split}]')
        validate_annotations(annos, source, args.num_classes, num_joints,
                             positions)
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
    run_cli(main, errors=(AnnotationError, ))
