"""Kinetics-skeleton (st-gcn's OpenPose release) to a pyskl pickle.

Input is the ``kinetics-skeleton`` folder published with ST-GCN::

    kinetics-skeleton/
        kinetics_train/<id>.json     kinetics_train_label.json
        kinetics_val/<id>.json       kinetics_val_label.json

A label file maps each ``<id>`` to ``{'has_skeleton', 'label',
'label_index'}``. A sample file holds ``data``: a list of frames, each with
``frame_index`` and ``skeleton``: the persons OpenPose found, each with
``pose`` ``[x0, y0, x1, y1, ...]`` (18 joints of
:data:`mmcsre.structures.OPENPOSE`, coordinates divided by the 340 x 256
frame size, so in [0, 1]) and ``score`` (18 confidences); plus ``label`` and
``label_index``.

Persons are ranked in each frame, as ST-GCN's ``feeder_kinetics.py`` does:
of the first ``num_person_in`` (5) persons listed in a frame, the ones with
the largest summed joint score of that frame are kept, highest first, in
slots ``0 .. max_persons - 1``. OpenPose does not track people, so a slot is
"the most confident person of the frame", not one identity over time.
"""
import json
import os
import os.path as osp
import pickle
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
from tqdm import tqdm

from mmcsre.datasets.validation import AnnotationError, validate_annotations

NUM_JOINTS = 18
NUM_CLASSES = 400
SPLITS = ('train', 'val')
#: The frame size the poses were extracted at (H, W); coordinates are
#: divided by it, so annotations carry ``img_shape=(1, 1)``.
ORIGINAL_SHAPE = (256, 340)


def _load_json(path: str) -> object:
    """Read a JSON file, naming it in any error."""
    try:
        with open(path, 'rb') as f:
            return json.loads(f.read())
    except ValueError as err:  # JSONDecodeError and bad UTF-8
        raise AnnotationError(f'{path}: malformed JSON ({err})') from err


def load_label_file(path: str, num_classes: int = NUM_CLASSES) -> Dict:
    """Read and check ``kinetics_<split>_label.json``.

    Args:
        path (str): The label file.
        num_classes (int): Labels must lie in ``[0, num_classes)``.
            Defaults to 400.

    Returns:
        dict: ``{id: {'has_skeleton': bool, 'label': str, 'label_index':
        int}}``.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path}: no such label file')
    labels = _load_json(path)
    if not isinstance(labels, dict):
        raise AnnotationError(f'{path}: expected a dict {{id: {{...}}}}, got '
                              f'{type(labels).__name__}')
    for key, info in labels.items():
        if not isinstance(info, dict) or 'label_index' not in info:
            raise AnnotationError(
                f"{path}: entry {key!r} has no 'label_index': {info!r}")
        index = info['label_index']
        if isinstance(index, bool) or not isinstance(index, int):
            raise AnnotationError(f'{path}: entry {key!r}: label_index must '
                                  f'be an integer, got {index!r}')
        if not 0 <= index < num_classes:
            raise AnnotationError(
                f'{path}: entry {key!r}: label_index {index} out of range '
                f'[0, {num_classes - 1}]')
    return labels


def _frame_persons(name: str, frame: object, num_person_in: int,
                   num_joints: int) -> Tuple[int, np.ndarray]:
    """``(frame_index, (P, V, 3) x y score)`` of one entry of ``data``."""
    if not isinstance(frame, dict) or 'frame_index' not in frame:
        raise AnnotationError(
            f"{name}: a frame of 'data' has no 'frame_index'")
    index = frame['frame_index']
    if isinstance(index, bool) or not isinstance(index, int):
        raise AnnotationError(
            f'{name}: frame_index must be an integer, got {index!r}')
    people = frame.get('skeleton', [])
    if not isinstance(people, list):
        raise AnnotationError(f"{name}: frame {index}: 'skeleton' must be a "
                              'list of persons')
    people = people[:num_person_in]
    out = np.zeros((len(people), num_joints, 3), dtype=np.float32)
    for p, person in enumerate(people):
        try:
            pose = np.asarray(person['pose'], dtype=np.float32)
            score = np.asarray(person['score'], dtype=np.float32)
        except (KeyError, TypeError, ValueError) as err:
            raise AnnotationError(
                f"{name}: frame {index}: cannot read 'pose'/'score' "
                f'({type(err).__name__}: {err})') from err
        if pose.shape != (2 * num_joints, ) or score.shape != (num_joints, ):
            raise AnnotationError(
                f"{name}: frame {index}: 'pose' must hold {2 * num_joints} "
                f"numbers and 'score' {num_joints}, got {pose.size} and "
                f'{score.size}')
        out[p, :, :2] = pose.reshape(num_joints, 2)
        out[p, :, 2] = score
    return index, out


def read_sample(name: str,
                raw: bytes,
                max_persons: int = 2,
                num_person_in: int = 5,
                num_joints: int = NUM_JOINTS) -> Optional[Dict]:
    """Turn one sample JSON into ``keypoint``/``keypoint_score`` arrays.

    Frame ``frame_index`` goes to time step ``frame_index`` (ST-GCN's
    placement), so ``total_frames`` is the largest index + 1 and frames the
    file does not list are zeros. Joints with score 0 get coordinates 0.

    Args:
        name (str): The file (quoted in errors).
        raw (bytes): Its contents.
        max_persons (int): Persons kept per frame. Defaults to 2.
        num_person_in (int): Persons looked at per frame (the first ones
            listed). Defaults to 5.
        num_joints (int): Joints per person. Defaults to 18.

    Returns:
        dict | None: ``total_frames``, ``keypoint`` (M, T, V, 2) float32,
        ``keypoint_score`` (M, T, V) float32 and ``label_index`` (from the
        file, None if absent), with M = min(max_persons, most persons in a
        frame); None if no frame has a person.
    """
    try:
        info = json.loads(raw)
    except ValueError as err:
        raise AnnotationError(f'{name}: malformed JSON ({err})') from err
    if not isinstance(info, dict) or not isinstance(info.get('data'), list):
        raise AnnotationError(f"{name}: expected a dict with a 'data' list "
                              'of frames')
    frames = [
        _frame_persons(name, f, num_person_in, num_joints)
        for f in info['data']
    ]
    num_person = max((p.shape[0] for _, p in frames), default=0)
    if num_person == 0:
        return None
    indices = np.array([i for i, _ in frames])
    if indices.min() < 0:
        raise AnnotationError(
            f'{name}: negative frame_index {int(indices.min())}')
    # (frames listed, P, V, 3) with absent persons as zeros
    stacked = np.zeros((len(frames), num_person, num_joints, 3), np.float32)
    for f, (_, persons) in enumerate(frames):
        stacked[f, :persons.shape[0]] = persons
    # Stable sort: equal totals keep the order OpenPose listed them in.
    order = np.argsort(-stacked[..., 2].sum(-1), axis=1, kind='stable')
    stacked = np.take_along_axis(stacked, order[:, :, None, None], axis=1)
    stacked = stacked[:, :max_persons]
    stacked[..., :2] *= (stacked[..., 2:] > 0)
    seq = np.zeros((int(indices.max()) + 1, ) + stacked.shape[1:], np.float32)
    seq[indices] = stacked  # a repeated frame_index keeps its last entry
    seq = seq.transpose(1, 0, 2, 3)  # (M, T, V, 3)
    label_index = info.get('label_index')
    return dict(
        total_frames=seq.shape[1],
        keypoint=np.ascontiguousarray(seq[..., :2]),
        keypoint_score=np.ascontiguousarray(seq[..., 2]),
        label_index=label_index)


def _convert_split(root: str, split: str, num_classes: int, max_persons: int,
                   num_person_in: int, progress: bool,
                   stats: Dict) -> Tuple[List[Dict], Dict[int, str]]:
    """Annotations and ``{label_index: name}`` of one split."""
    label_path = osp.join(root, f'kinetics_{split}_label.json')
    sample_dir = osp.join(root, f'kinetics_{split}')
    labels = load_label_file(label_path, num_classes)
    if not osp.isdir(sample_dir):
        raise FileNotFoundError(f'{sample_dir}: no such sample folder')
    files = {
        osp.splitext(n)[0]: n
        for n in os.listdir(sample_dir) if n.endswith('.json')
    }
    unlabelled = sorted(set(files) - set(labels))
    if unlabelled:
        raise AnnotationError(
            f'{osp.join(sample_dir, files[unlabelled[0]])}: no entry in '
            f'{label_path} ({len(unlabelled)} file(s) unlabelled)')
    names: Dict[int, str] = {}
    annotations = []
    skipped = dict(no_skeleton=0, empty=0)
    ids = sorted(labels)
    items = tqdm(ids, desc=f'Kinetics {split}', unit='seq') \
        if progress else ids
    for sample_id in items:
        info = labels[sample_id]
        label = info['label_index']
        if 'label' in info:
            names.setdefault(label, info['label'])
        if not info.get('has_skeleton', True):
            skipped['no_skeleton'] += 1
            continue
        if sample_id not in files:
            raise FileNotFoundError(
                f'{label_path}: {sample_id!r} has a skeleton but '
                f'{osp.join(sample_dir, sample_id + ".json")} is missing')
        path = osp.join(sample_dir, files[sample_id])
        with open(path, 'rb') as f:
            sample = read_sample(path, f.read(), max_persons, num_person_in)
        if sample is None:
            skipped['empty'] += 1
            continue
        in_file = sample.pop('label_index')
        if in_file is not None and in_file != label:
            raise AnnotationError(
                f'{path}: label_index {in_file} disagrees with {label} in '
                f'{label_path}')
        annotations.append(
            dict(
                frame_dir=sample_id,
                label=label,
                img_shape=(1, 1),
                original_shape=ORIGINAL_SHAPE,
                **sample))
    stats[split] = len(annotations)
    stats[f'{split}_skipped_no_skeleton'] = skipped['no_skeleton']
    stats[f'{split}_skipped_empty'] = skipped['empty']
    return annotations, names


def convert_kinetics(root: str,
                     out_file: Optional[str] = None,
                     splits: Sequence[str] = SPLITS,
                     num_classes: int = NUM_CLASSES,
                     max_persons: int = 2,
                     num_person_in: int = 5,
                     progress: bool = True,
                     return_stats: bool = False) -> Union[Dict, Tuple]:
    """Convert the Kinetics-skeleton release to a pyskl-style dict.

    Samples whose label entry says ``has_skeleton: false``, and files in
    which no frame has a person, are skipped and counted. Coordinates stay
    as released (divided by the 340 x 256 frame size); annotations carry
    ``img_shape=(1, 1)`` so mmaction2's geometric transforms work in these
    units, and ``original_shape=(256, 340)``.

    Args:
        root (str): The ``kinetics-skeleton`` folder.
        out_file (str, optional): Where to write the pickle. Defaults to
            None (only return it).
        splits (Sequence[str]): Which of ``'train'`` and ``'val'`` to
            convert. Defaults to both.
        num_classes (int): Number of classes; labels outside ``[0,
            num_classes)`` are errors. Defaults to 400.
        max_persons (int): Persons kept per frame. Defaults to 2.
        num_person_in (int): Persons looked at per frame. Defaults to 5.
        progress (bool): Show a progress bar. Defaults to True.
        return_stats (bool): Also return the counts. Defaults to False.

    Returns:
        dict | tuple: ``{'split': {'train': [...], 'val': [...]},
        'annotations': [...], 'classes': [...]}`` (``classes[i]`` is the
        name of label i, None if no label file names it); with
        ``return_stats``, also ``{'train': n, 'train_skipped_no_skeleton':
        n, 'train_skipped_empty': n, ...}``.
    """
    bad = [s for s in splits if s not in SPLITS]
    if bad or not splits:
        raise ValueError(f'unknown split(s) {bad}; choose from {SPLITS}')
    if not osp.isdir(root):
        raise FileNotFoundError(f'{root}: no such folder')
    annotations: List[Dict] = []
    split_ids: Dict[str, List[str]] = {}
    classes: List[Optional[str]] = [None] * num_classes
    stats: Dict[str, int] = {}
    for split in splits:
        annos, names = _convert_split(root, split, num_classes, max_persons,
                                      num_person_in, progress, stats)
        annotations += annos
        split_ids[split] = [a['frame_dir'] for a in annos]
        for index, name in names.items():
            classes[index] = classes[index] or name
    if not annotations:
        raise AnnotationError(f'{root}: no sample with a skeleton in '
                              f'split(s) {list(splits)}')
    validate_annotations(
        annotations,
        source=str(root),
        num_classes=num_classes,
        num_joints=NUM_JOINTS)
    data = dict(split=split_ids, annotations=annotations, classes=classes)
    if out_file is not None:
        os.makedirs(osp.dirname(osp.abspath(out_file)), exist_ok=True)
        with open(out_file, 'wb') as f:
            # protocol 4: compact arrays, and files over 4 GB
            pickle.dump(data, f, protocol=4)
    return (data, stats) if return_stats else data
