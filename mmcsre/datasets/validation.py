"""Validation of pyskl-style skeleton annotations.

Every check raises :class:`AnnotationError` whose message names the source
file, the sample (index and ``frame_dir``) and what is wrong, so a bad sample
is found before training starts instead of crashing an epoch half-way.
"""
from typing import Dict, Iterable, List, Optional, Sequence

import numpy as np

REQUIRED_KEYS = ('frame_dir', 'label', 'keypoint')
TOP_LEVEL_KEYS = ('split', 'annotations')


class AnnotationError(ValueError):
    """A skeleton annotation file or sample is malformed."""


def _sample(index: int, position: Optional[int] = None) -> str:
    """``sample #i``, with the index in the file when it differs (a split's
    i-th sample)."""
    if position is None or position == index:
        return f'sample #{index}'
    return f'sample #{index} (index {position} in the file)'


def _where(source: str,
           index: Optional[int],
           anno: Optional[dict],
           position: Optional[int] = None) -> str:
    """Where a problem is, for error messages: the file, ``sample #i`` (and its
    index in the file) and the ``frame_dir``."""
    parts = [str(source)]
    if index is not None:
        parts.append(_sample(index, position))
    if isinstance(anno, dict) and 'frame_dir' in anno:
        parts.append(f"frame_dir={anno['frame_dir']!r}")
    return ', '.join(parts)


def validate_annotation(anno: Dict,
                        index: Optional[int] = None,
                        source: str = '<annotations>',
                        num_classes: Optional[int] = None,
                        num_joints: Optional[int] = None,
                        position: Optional[int] = None) -> None:
    """Check one pyskl-style annotation and raise a clear error if broken.

    Args:
        anno (dict): The annotation. Needs ``frame_dir``, ``label`` and
            ``keypoint`` of shape (M, T, V, C) with C >= 2; ``total_frames``
            and ``keypoint_score`` (M, T, V) are checked when present.
        index (int, optional): Position of the sample in its file, quoted in
            the message. Defaults to None.
        source (str): The file the sample came from. Defaults to
            ``'<annotations>'``.
        num_classes (int, optional): If given, labels must lie in
            ``[0, num_classes)``. Defaults to None.
        num_joints (int, optional): If given, V must equal it.
            Defaults to None.
        position (int, optional): Index of the sample in the whole file's
            ``annotations`` when ``index`` counts a split's samples, quoted
            too. Defaults to None.

    Raises:
        AnnotationError: Describing the first problem found.
    """

    def fail(problem: str) -> None:
        raise AnnotationError(
            f'{_where(source, index, anno, position)}: {problem}')

    if not isinstance(anno, dict):
        fail(f'expected a dict, got {type(anno).__name__}')
    missing = [k for k in REQUIRED_KEYS if k not in anno]
    if missing:
        fail(f'missing key(s) {missing}; a pyskl annotation needs '
             f'{list(REQUIRED_KEYS)} (keys present: {sorted(anno)})')

    kp = anno['keypoint']
    if not isinstance(kp, np.ndarray):
        fail(f"'keypoint' must be a numpy array, got {type(kp).__name__}")
    if kp.ndim != 4:
        fail(f"'keypoint' must have shape (M, T, V, C), got {kp.shape}")
    num_person, num_frames, num_node, num_coord = kp.shape
    if num_person < 1 or num_node < 1:
        fail(f"'keypoint' has no person or no joint: shape {kp.shape}")
    if num_frames < 1:
        fail(f"empty sequence: 'keypoint' has 0 frames (shape {kp.shape})")
    if num_coord < 2:
        fail(f"'keypoint' needs C >= 2 coordinates, got shape {kp.shape}")
    if num_joints is not None and num_node != num_joints:
        fail(f"'keypoint' has {num_node} joints, the layout expects "
             f'{num_joints}')
    if not np.issubdtype(kp.dtype, np.floating):
        fail(f"'keypoint' must be floating point, got {kp.dtype}")
    if not np.isfinite(kp).all():
        bad = np.argwhere(~np.isfinite(kp))[0].tolist()
        fail(f"'keypoint' holds NaN/inf (first at (m, t, v, c)={bad})")

    total = anno.get('total_frames', num_frames)
    if isinstance(total, bool) or not isinstance(total, (int, np.integer)):
        fail(f"'total_frames' must be an integer, got {total!r}")
    if int(total) != num_frames:
        fail(f"'total_frames'={total} but 'keypoint' has {num_frames} frames")

    if 'keypoint_score' in anno:
        score = anno['keypoint_score']
        if not isinstance(score, np.ndarray) or score.shape != kp.shape[:3]:
            shape = getattr(score, 'shape', type(score).__name__)
            fail(f"'keypoint_score' must have shape {kp.shape[:3]}, "
                 f'got {shape}')
        if not np.isfinite(score).all():
            fail("'keypoint_score' holds NaN/inf")

    label = anno['label']
    if isinstance(label, np.ndarray) and label.size == 1:
        label = label.item()
    if isinstance(label, bool) or not isinstance(label, (int, np.integer)):
        fail(f"'label' must be an integer, got {label!r}")
    if label < 0 or (num_classes is not None and label >= num_classes):
        upper = f'{num_classes - 1}' if num_classes is not None else 'inf'
        fail(f"'label'={label} out of range [0, {upper}]")


def validate_annotations(annotations: Sequence[Dict],
                         source: str = '<annotations>',
                         num_classes: Optional[int] = None,
                         num_joints: Optional[int] = None,
                         positions: Optional[Sequence[int]] = None) -> None:
    """Check every sample and that ``frame_dir`` ids are unique.

    Args:
        annotations (Sequence[dict]): The samples.
        source (str): The file they came from, quoted in errors.
        num_classes (int, optional): Upper bound (exclusive) for labels.
        num_joints (int, optional): Expected number of joints V.
        positions (Sequence[int], optional): Index of each sample in the
            file's ``annotations`` (see :func:`split_positions`), quoted in
            errors besides its index in ``annotations``. Defaults to None.

    Raises:
        AnnotationError: On the first malformed sample or duplicated id.
    """
    if not isinstance(annotations, (list, tuple)):
        raise AnnotationError(
            f"{source}: 'annotations' must be a list of dicts, got "
            f'{type(annotations).__name__}')
    if len(annotations) == 0:
        raise AnnotationError(f'{source}: no annotations')
    if positions is not None and len(positions) != len(annotations):
        raise ValueError(f'{len(positions)} positions for '
                         f'{len(annotations)} annotations')
    seen = {}
    for i, anno in enumerate(annotations):
        pos = None if positions is None else positions[i]
        validate_annotation(anno, i, source, num_classes, num_joints, pos)
        key = anno['frame_dir']
        if key in seen:
            first = seen[key]
            first_pos = None if positions is None else positions[first]
            raise AnnotationError(
                f'{_where(source, i, anno, pos)}: duplicated frame_dir, '
                f'first seen at {_sample(first, first_pos)}')
        seen[key] = i


def select_split(data: Dict, split: str, source: str) -> List[Dict]:
    """Return the annotations of one split of a pyskl pickle, in file order.

    Args:
        data (dict): The loaded pickle with ``split`` and ``annotations``.
        split (str): Name of the split, e.g. ``'xsub_train'``.
        source (str): The file, quoted in errors.

    Returns:
        list[dict]: The annotations whose ``frame_dir`` (or ``filename``)
        is listed in the split.

    Raises:
        AnnotationError: If the split is unknown or lists ids that have no
            annotation.
    """
    annos = data['annotations'] if isinstance(data, dict) else None
    return [annos[i] for i in split_positions(data, split, source)]


def split_positions(data: Dict, split: str, source: str) -> List[int]:
    """Indices into ``data['annotations']`` of the samples of one split, in
    file order (the samples :func:`select_split` returns).

    Args:
        data (dict): The loaded pickle with ``split`` and ``annotations``.
        split (str): Name of the split.
        source (str): The file, quoted in errors.

    Returns:
        list[int]: Positions of the split's annotations in the file.

    Raises:
        AnnotationError: If the file has no ``split`` dict, the split is
            unknown or lists ids that have no annotation.
    """
    if not isinstance(data, dict) or 'split' not in data:
        raise AnnotationError(
            f"{source}: split {split!r} asked for but the file has no 'split'"
            ' dict (a pyskl pickle is {"split": ..., "annotations": ...})')
    splits = data['split']
    if not isinstance(splits, dict):
        raise AnnotationError(
            f"{source}: 'split' must be a dict of id lists, got "
            f'{type(splits).__name__}')
    if split not in splits:
        raise AnnotationError(f'{source}: unknown split {split!r}; the file '
                              f'has {sorted(splits)}')
    annos = data['annotations']
    if not isinstance(annos, (list, tuple)) or not all(
            isinstance(a, dict) for a in annos):
        raise AnnotationError(
            f"{source}: 'annotations' must be a list of dicts, got "
            f'{type(annos).__name__}')
    ident = 'filename' if annos and 'filename' in annos[0] else 'frame_dir'
    wanted = list(splits[split])
    known = {a.get(ident) for a in annos}
    absent = [x for x in wanted if x not in known]
    if absent:
        raise AnnotationError(
            f'{source}: split {split!r} lists {len(absent)} id(s) with no '
            f'annotation, e.g. {absent[:3]}')
    wanted_set = set(wanted)
    return [i for i, a in enumerate(annos) if a.get(ident) in wanted_set]


def check_keys(data: object,
               source: str,
               keys: Iterable[str] = TOP_LEVEL_KEYS) -> None:
    """Raise if a loaded pickle is not a dict with the given keys."""
    if not isinstance(data, dict):
        raise AnnotationError(
            f'{source}: expected a dict with keys {list(keys)}, got '
            f'{type(data).__name__}')
    missing = [k for k in keys if k not in data]
    if missing:
        raise AnnotationError(f'{source}: missing top-level key(s) {missing} '
                              f'(present: {sorted(data)})')
