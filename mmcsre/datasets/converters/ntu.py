"""Convert raw NTU RGB+D 60/120 ``.skeleton`` files to a pyskl pickle.

The raw skeletons of NTU RGB+D (Kinect v2) are text files, one per sample,
named ``SsssCcccPpppRrrrAaaa.skeleton`` (setup, camera, performer, replication
and action ids). This module parses them, removes the noisy bodies that Kinect
reports (with the heuristics of the preprocessing widely used for NTU, e.g. in
2s-AGCN / CTR-GCN ``get_raw_denoised_data.py`` and pyskl ``ntu_preproc.py``),
and writes a pyskl-style pickle::

    {'split': {'xsub_train': [frame_dir, ...], ...},
     'annotations': [{'frame_dir': 'S001C001P001R001A001', 'label': 0,
                      'total_frames': T,
                      'keypoint': float32 array of shape (M, T, 25, 3)},
                     ...]}

``keypoint`` holds the camera-space ``x y z`` coordinates (metres) of the 25
Kinect joints; frames in which a kept body is not tracked are zeros.
"""
import os
import os.path as osp
import pickle
import re
import warnings
from typing import Dict, Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np

from mmcsre.datasets.validation import AnnotationError, validate_annotations

NUM_JOINTS = 25
#: Number of values on a body-info line and on a joint line.
NUM_BODY_INFO_VALUES = 10
NUM_JOINT_VALUES = 12

#: Cross-subject training performers of NTU RGB+D 60.
NTU60_XSUB_TRAIN_SUBJECTS = frozenset(
    (1, 2, 4, 5, 8, 9, 13, 14, 15, 16, 17, 18, 19, 25, 27, 28, 31, 34, 35, 38))
#: Cross-view training cameras of NTU RGB+D 60 (camera 1 is validation).
NTU60_XVIEW_TRAIN_CAMERAS = frozenset((2, 3))
#: Cross-subject training performers of NTU RGB+D 120.
NTU120_XSUB_TRAIN_SUBJECTS = NTU60_XSUB_TRAIN_SUBJECTS | frozenset(
    (45, 46, 47, 49, 50, 52, 53, 54, 55, 56, 57, 58, 59, 70, 74, 78, 80, 81,
     82, 83, 84, 85, 86, 89, 91, 92, 93, 94, 95, 97, 98, 100, 103))
#: Cross-setup training setups of NTU RGB+D 120 (the even ids).
NTU120_XSET_TRAIN_SETUPS = frozenset(range(2, 33, 2))

#: Largest setup and action id of each benchmark.
BENCHMARKS = {
    'ntu60': dict(max_setup=17, num_classes=60),
    'ntu120': dict(max_setup=32, num_classes=120),
}

#: Denoising thresholds of the public NTU preprocessing.
NOISE_LENGTH_THR = 11  # a body tracked for <= 11 frames is noise
NOISE_SPREAD_XY_RATIO = 0.8  # a frame is noisy if x-spread > 0.8 * y-spread
NOISE_SPREAD_FRAME_RATIO = 0.69754  # noise if >= this share of noisy frames

SAMPLE_NAME_PATTERN = re.compile(
    r'^S([0-9]{3})C([0-9]{3})P([0-9]{3})R([0-9]{3})A([0-9]{3})$')
_UINT_PATTERN = re.compile(r'^[0-9]+$')
MISSING_LIST_DIR = osp.join(osp.dirname(osp.abspath(__file__)), 'data')

BodyDict = Dict[int, Dict[str, np.ndarray]]


# --------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------
class _LineReader:
    """Hand out the lines of a text file, failing with a located error.

    Args:
        path (str): The file, quoted in errors.
        lines (list[str]): Its lines.
    """

    def __init__(self, path: str, lines: List[str]) -> None:
        self.path = path
        self.lines = lines
        self.pos = 0  # 0-based index of the next line

    def fail(self, lineno: int, problem: str) -> None:
        """Raise an :class:`AnnotationError` located at ``lineno``."""
        raise AnnotationError(f'{self.path}: line {lineno}: {problem}')

    def next_line(self, expected: str) -> Tuple[int, str]:
        """Return ``(lineno, stripped text)`` of the next line."""
        if self.pos >= len(self.lines):
            self.fail(
                self.pos + 1, f'unexpected end of file (truncated?), expected '
                f'{expected}')
        self.pos += 1
        return self.pos, self.lines[self.pos - 1].strip()

    def next_int(self, expected: str, value: Optional[int] = None) -> int:
        """Read a line holding one non-negative integer.

        Args:
            expected (str): What the line should be, quoted in errors.
            value (int, optional): If given, the integer must equal it.
        """
        lineno, text = self.next_line(expected)
        if not _UINT_PATTERN.match(text):
            self.fail(
                lineno, f'expected {expected} (a non-negative '
                f'integer), got {text!r}')
        number = int(text)
        if value is not None and number != value:
            self.fail(lineno, f'expected {expected} = {value}, got {number}')
        return number

    def next_block(self, num_lines: int, num_values: int,
                   expected: str) -> np.ndarray:
        """Read ``num_lines`` lines of ``num_values`` numbers each.

        Returns:
            np.ndarray: float64 array of shape (num_lines, num_values).
        """
        first = self.pos + 1
        block = self.lines[self.pos:self.pos + num_lines]
        rows = [line.split() for line in block]
        for i, row in enumerate(rows):
            if len(row) != num_values:
                self.fail(
                    first + i, f'expected {expected} ({num_values} '
                    f'numbers), got {len(row)} value(s): '
                    f'{block[i].strip()!r}')
        if len(block) < num_lines:
            self.pos += len(block)
            self.next_line(expected)  # raises: end of file
        try:
            values = np.array(rows, dtype=np.float64)
        except ValueError:  # convert line by line to locate the culprit
            values = np.empty((num_lines, num_values), dtype=np.float64)
            for i, row in enumerate(rows):
                try:
                    values[i] = [float(v) for v in row]
                except ValueError:
                    self.fail(
                        first + i, f'expected {expected} ({num_values} '
                        f'numbers), got non-numeric '
                        f'{block[i].strip()!r}')
        self.pos += num_lines
        return values

    def check_end(self, num_frames: int) -> None:
        """Fail if anything but blank lines follows the last frame."""
        for i in range(self.pos, len(self.lines)):
            if self.lines[i].strip():
                self.fail(
                    i + 1, f'expected end of file after the '
                    f'{num_frames} frame(s) announced on line 1, got '
                    f'{self.lines[i].strip()!r}')


def _read_body(reader: _LineReader) -> Tuple[int, np.ndarray]:
    """Read one body (info line, joint count, joints) of a frame.

    Returns:
        tuple[int, np.ndarray]: The bodyID and its (25, 3) float32 ``x y z``.
    """
    lineno, text = reader.next_line('a body-info line')
    values = text.split()
    if len(values) != NUM_BODY_INFO_VALUES \
            or not _UINT_PATTERN.match(values[0]):
        reader.fail(
            lineno, f'expected a body-info line of '
            f'{NUM_BODY_INFO_VALUES} values starting with an integer '
            f'bodyID, got {text!r}')
    reader.next_int('the joint count', NUM_JOINTS)
    first = reader.pos + 1
    joints = reader.next_block(NUM_JOINTS, NUM_JOINT_VALUES, 'a joint line')
    xyz = joints[:, :3]
    finite = np.isfinite(xyz).all(axis=1)
    if not finite.all():
        bad = int(np.argmin(finite))
        reader.fail(
            first + bad, 'expected finite x y z joint coordinates, '
            f'got {reader.lines[first + bad - 1].strip()!r}')
    return int(values[0]), xyz.astype(np.float32)


def parse_skeleton_file(path: str) -> dict:
    """Parse one NTU RGB+D ``.skeleton`` file.

    Bodies are tracked across frames by their Kinect ``bodyID``.

    Args:
        path (str): The ``.skeleton`` file.

    Returns:
        dict: ``{'num_frames': F, 'bodies': {body_id: body}}``. ``F`` is the
        frame count on line 1 (frames with no body included); ``body_id`` is
        the integer bodyID; ``body`` is a dict with ``'frames'`` (int64 array
        (n, ): the 0-based indices of the frames the body is in, increasing)
        and ``'joints'`` (float32 array (n, 25, 3): camera-space ``x y z`` in
        metres). ``bodies`` is ordered by first appearance and is empty when
        no frame holds a body.

    Raises:
        AnnotationError: If the file is malformed (truncated, non-numeric
            values, a joint count other than 25, a bodyID twice in a frame,
            extra content). The message names the file, the line and what was
            expected there.
    """
    path = str(path)
    with open(path, encoding='utf-8', errors='replace') as f:
        reader = _LineReader(path, f.read().splitlines())
    num_frames = reader.next_int('the number of frames')
    frames: Dict[int, List[int]] = {}
    joints: Dict[int, List[np.ndarray]] = {}
    for frame_idx in range(num_frames):
        num_bodies = reader.next_int(
            f'the number of bodies of frame {frame_idx + 1}/{num_frames}')
        seen = set()
        for _ in range(num_bodies):
            lineno = reader.pos + 1
            body_id, xyz = _read_body(reader)
            if body_id in seen:
                reader.fail(
                    lineno, f'bodyID {body_id} appears twice in '
                    f'frame {frame_idx + 1}; expected distinct ids')
            seen.add(body_id)
            frames.setdefault(body_id, []).append(frame_idx)
            joints.setdefault(body_id, []).append(xyz)
    reader.check_end(num_frames)
    bodies = {
        body_id:
        dict(
            frames=np.asarray(frames[body_id], dtype=np.int64),
            joints=np.stack(joints[body_id]))
        for body_id in frames
    }
    return dict(num_frames=num_frames, bodies=bodies)


def parse_sample_name(name: str) -> Dict[str, int]:
    """Decode an NTU sample name such as ``S001C002P003R002A013``.

    Args:
        name (str): The name, a file name or a path; a ``.skeleton``
            extension is ignored.

    Returns:
        dict: ``setup``, ``camera``, ``subject`` (performer), ``replication``
        and ``action`` as 1-based ints.

    Raises:
        AnnotationError: If the name does not follow the pattern.
    """
    base = osp.basename(str(name))
    if base.endswith('.skeleton'):
        base = base[:-len('.skeleton')]
    match = SAMPLE_NAME_PATTERN.match(base)
    keys = ('setup', 'camera', 'subject', 'replication', 'action')
    info = dict(zip(keys, map(int, match.groups()))) if match else None
    if info is None or min(info.values()) < 1 or info['camera'] > 3 \
            or info['action'] > 120:
        raise AnnotationError(
            f'{name}: not an NTU RGB+D sample name; expected '
            "'SsssCcccPpppRrrrAaaa' (e.g. 'S001C001P001R001A001', ids >= 1, "
            'camera <= 3, action <= 120)')
    return info


# --------------------------------------------------------------------------
# Body selection
# --------------------------------------------------------------------------
def body_motion(joints: np.ndarray) -> float:
    """Motion of a body as defined by the public NTU preprocessing.

    The variance of all the body's joint positions (pooled over frames and
    joints) per coordinate, summed over ``x y z``.

    Args:
        joints (np.ndarray): (n, 25, 3) positions.

    Returns:
        float: The motion amount.
    """
    return float(np.var(joints.reshape(-1, 3), axis=0).sum())


def spread_noise_frames(joints: np.ndarray) -> np.ndarray:
    """Flag the frames in which a body is wider (x) than plausible.

    A frame is noisy if the x-extent of the joints exceeds
    :data:`NOISE_SPREAD_XY_RATIO` times their y-extent (a standing person is
    taller than wide; Kinect ghosts from furniture often are not).

    Args:
        joints (np.ndarray): (n, 25, 3) positions.

    Returns:
        np.ndarray: bool array (n, ), True for noisy frames.
    """
    extent = joints.max(axis=1) - joints.min(axis=1)
    return extent[:, 0] > NOISE_SPREAD_XY_RATIO * extent[:, 1]


def _longest(bodies: BodyDict, ids: Sequence[int]) -> int:
    """The id among ``ids`` with the most frames (the first one on ties)."""
    return max(ids, key=lambda i: len(bodies[i]['frames']))


def denoise_bodies(bodies: BodyDict, motions: Dict[int,
                                                   float]) -> Dict[int, float]:
    """Drop noisy bodies, following the public NTU preprocessing.

    Applied only when the sample has more than one body:

    1. drop bodies tracked for <= :data:`NOISE_LENGTH_THR` frames;
    2. if more than one body is left, drop bodies whose share of noisy frames
       (see :func:`spread_noise_frames`) is >= :data:`NOISE_SPREAD_FRAME_RATIO`
       and lower the motion of partly noisy bodies to the motion of their
       clean frames if that is smaller.

    If a step would drop every body, the body with the most frames among its
    input is kept instead, so a sample never ends up empty.

    Args:
        bodies (dict): Bodies as returned by :func:`parse_skeleton_file`.
        motions (dict): Motion of each body id (see :func:`body_motion`).

    Returns:
        dict: Motion of each kept body id (possibly lowered), in input order.
    """
    ids = list(motions)
    if len(ids) <= 1:
        return dict(motions)
    kept = [i for i in ids if len(bodies[i]['frames']) > NOISE_LENGTH_THR]
    if not kept:
        kept = [_longest(bodies, ids)]
    if len(kept) == 1:
        return {kept[0]: motions[kept[0]]}
    new_motions = {}
    for i in kept:
        noisy = spread_noise_frames(bodies[i]['joints'])
        if noisy.mean() >= NOISE_SPREAD_FRAME_RATIO:
            continue
        motion = motions[i]
        if noisy.any():
            motion = min(motion, body_motion(bodies[i]['joints'][~noisy]))
        new_motions[i] = motion
    if not new_motions:
        best = _longest(bodies, kept)
        new_motions = {best: motions[best]}
    return new_motions


def _assign_slots(bodies: BodyDict, order: Sequence[int],
                  max_bodies: int) -> List[List[int]]:
    """Put bodies (most active first) into at most ``max_bodies`` slots.

    A body joins the first slot whose frame span (first to last frame of the
    bodies already in it) does not overlap its own span: Kinect often gives a
    person a new bodyID mid-sequence, and the two tracks are one actor. A body
    that overlaps every slot opens a new slot while fewer than ``max_bodies``
    exist and is dropped otherwise.

    Returns:
        list[list[int]]: The body ids of each slot.
    """
    slots: List[List[int]] = []
    spans: List[Tuple[int, int]] = []
    for body_id in order:
        frames = bodies[body_id]['frames']
        start, end = int(frames[0]), int(frames[-1])
        for k, (s, e) in enumerate(spans):
            if end < s or start > e:
                slots[k].append(body_id)
                spans[k] = (min(s, start), max(e, end))
                break
        else:
            if len(slots) < max_bodies:
                slots.append([body_id])
                spans.append((start, end))
    return slots


def select_bodies(bodies: BodyDict,
                  num_frames: int,
                  max_bodies: int = 2,
                  denoise: bool = True) -> np.ndarray:
    """Choose the actors of a sample and build its keypoint array.

    With ``denoise=True`` noisy bodies are dropped first (see
    :func:`denoise_bodies`). The remaining bodies are ranked by motion (see
    :func:`body_motion`), most active first, and placed into at most
    ``max_bodies`` actor slots (see :func:`_assign_slots`): when all bodies
    overlap in time this keeps the ``max_bodies`` most active ones, while
    non-overlapping tracks of one re-identified person share a slot. Actors
    are ordered by motion: slot 0 holds the most active body.

    Args:
        bodies (dict): Bodies as returned by :func:`parse_skeleton_file`
            (``frames`` must lie in ``[0, num_frames)``).
        num_frames (int): T, the number of frames of the sample.
        max_bodies (int): Largest number of actors M. Defaults to 2.
        denoise (bool): Whether to drop noisy bodies first. Defaults to True.

    Returns:
        np.ndarray: float32 (M, T, 25, 3), 1 <= M <= ``max_bodies``; frames in
        which an actor is not tracked are zeros.

    Raises:
        ValueError: If ``bodies`` is empty or ``max_bodies`` < 1.
    """
    if not bodies:
        raise ValueError('select_bodies() got no body')
    if max_bodies < 1:
        raise ValueError(f'max_bodies must be >= 1, got {max_bodies}')
    motions = {i: body_motion(b['joints']) for i, b in bodies.items()}
    if denoise:
        motions = denoise_bodies(bodies, motions)
    order = sorted(motions, key=lambda i: -motions[i])  # stable on ties
    slots = _assign_slots(bodies, order, max_bodies)
    keypoint = np.zeros((len(slots), num_frames, NUM_JOINTS, 3), np.float32)
    for k, slot in enumerate(slots):
        for body_id in slot:
            keypoint[k, bodies[body_id]['frames']] = bodies[body_id]['joints']
    return keypoint


# --------------------------------------------------------------------------
# Dataset conversion
# --------------------------------------------------------------------------
def load_missing_list(missing_list: Union[None, bool, str, Iterable[str]],
                      benchmark: str) -> set:
    """Resolve the samples to skip because their skeletons are missing.

    Args:
        missing_list (None | bool | str | Iterable[str]): ``None`` (or
            ``True``) uses the list shipped for ``benchmark`` (the one
            published by the dataset authors); ``False`` or ``'none'``
            disables skipping; another string is a text file whose lines that
            look like sample names (``.skeleton`` suffix allowed) are read,
            other lines (e.g. the header of the official list) are ignored;
            an iterable gives the names directly.
        benchmark (str): ``'ntu60'`` or ``'ntu120'``.

    Returns:
        set[str]: Sample names without extension.

    Raises:
        FileNotFoundError: If a given file does not exist.
        AnnotationError: If it holds no sample name.
    """
    if missing_list is False or (isinstance(missing_list, str)
                                 and missing_list.lower() == 'none'):
        return set()
    if missing_list is None or missing_list is True:
        missing_list = osp.join(MISSING_LIST_DIR,
                                f'{benchmark}_missing_skeletons.txt')
    if not isinstance(missing_list, (str, os.PathLike)):
        return {
            osp.basename(str(n)).replace('.skeleton', '')
            for n in missing_list
        }
    if not osp.isfile(missing_list):
        raise FileNotFoundError(f'{missing_list}: no such missing list')
    names = set()
    with open(missing_list, encoding='utf-8') as f:
        for line in f:
            name = line.strip().replace('.skeleton', '')
            if SAMPLE_NAME_PATTERN.match(name):
                names.add(name)
    if not names:
        raise AnnotationError(
            f'{missing_list}: no sample name (like S001C002P005R002A008) '
            'found; expected one missing-skeleton sample per line')
    return names


def find_skeleton_files(skeleton_dir: str) -> Dict[str, str]:
    """Find the ``.skeleton`` files under a folder (recursively).

    Args:
        skeleton_dir (str): The folder.

    Returns:
        dict[str, str]: Sample name -> path, sorted by name.

    Raises:
        FileNotFoundError: If the folder does not exist.
        AnnotationError: If it holds no ``.skeleton`` file, a badly named one
            or the same sample twice.
    """
    skeleton_dir = str(skeleton_dir)
    if not osp.isdir(skeleton_dir):
        raise FileNotFoundError(f'{skeleton_dir}: no such folder')
    found: Dict[str, str] = {}
    for root, _, names in os.walk(skeleton_dir):
        for fname in names:
            if not fname.endswith('.skeleton'):
                continue
            path = osp.join(root, fname)
            parse_sample_name(path)  # raises on a bad name
            name = fname[:-len('.skeleton')]
            if name in found:
                raise AnnotationError(
                    f'{path}: sample {name} found twice (also {found[name]})')
            found[name] = path
    if not found:
        raise AnnotationError(
            f'{skeleton_dir}: no .skeleton file found; expected the raw NTU '
            'RGB+D skeletons (e.g. nturgb+d_skeletons/S001C001P001R001A001'
            '.skeleton)')
    return dict(sorted(found.items()))


def in_benchmark(info: Dict[str, int], benchmark: str) -> bool:
    """Whether a decoded sample name belongs to ``benchmark``."""
    spec = BENCHMARKS[benchmark]
    return (info['setup'] <= spec['max_setup']
            and info['action'] <= spec['num_classes'])


def make_splits(names: Sequence[str], benchmark: str) -> Dict[str, List[str]]:
    """Assign samples to the standard train/val splits of a benchmark.

    ``ntu60``: ``xsub_*`` by performer (:data:`NTU60_XSUB_TRAIN_SUBJECTS`)
    and ``xview_*`` by camera (:data:`NTU60_XVIEW_TRAIN_CAMERAS`). ``ntu120``:
    ``xsub_*`` by performer (:data:`NTU120_XSUB_TRAIN_SUBJECTS`) and
    ``xset_*`` by setup parity (:data:`NTU120_XSET_TRAIN_SETUPS`).

    Args:
        names (Sequence[str]): Sample names.
        benchmark (str): ``'ntu60'`` or ``'ntu120'``.

    Returns:
        dict[str, list[str]]: Split name -> sample names, in input order.
    """
    if benchmark == 'ntu60':
        rules = dict(
            xsub=('subject', NTU60_XSUB_TRAIN_SUBJECTS),
            xview=('camera', NTU60_XVIEW_TRAIN_CAMERAS))
    else:
        rules = dict(
            xsub=('subject', NTU120_XSUB_TRAIN_SUBJECTS),
            xset=('setup', NTU120_XSET_TRAIN_SETUPS))
    infos = [parse_sample_name(n) for n in names]
    splits = {}
    for prefix, (key, train_ids) in rules.items():
        is_train = [info[key] in train_ids for info in infos]
        splits[f'{prefix}_train'] = [n for n, t in zip(names, is_train) if t]
        splits[f'{prefix}_val'] = [n for n, t in zip(names, is_train) if not t]
    return splits


def convert_sample(path: str,
                   max_bodies: int = 2,
                   denoise: bool = True) -> Optional[dict]:
    """Convert one ``.skeleton`` file to a pyskl annotation.

    Args:
        path (str): The file.
        max_bodies (int): Largest number of actors. Defaults to 2.
        denoise (bool): Whether to drop noisy bodies. Defaults to True.

    Returns:
        dict | None: ``frame_dir``, ``label`` (action - 1), ``total_frames``
        and ``keypoint`` (float32 (M, T, 25, 3)); None (with a warning naming
        the file) if the file has 0 frames or no body in any frame.

    Raises:
        AnnotationError: If the file name or content is malformed.
    """
    info = parse_sample_name(path)
    skeleton = parse_skeleton_file(path)
    if not skeleton['bodies']:
        warnings.warn(f'{path}: no skeleton in any of its '
                      f"{skeleton['num_frames']} frame(s); sample skipped "
                      '(a missing-skeleton sample)')
        return None
    keypoint = select_bodies(skeleton['bodies'], skeleton['num_frames'],
                             max_bodies, denoise)
    name = osp.basename(str(path))[:-len('.skeleton')]
    return dict(
        frame_dir=name,
        label=info['action'] - 1,
        total_frames=keypoint.shape[1],
        keypoint=keypoint)


def _dump(data: dict, out_file: str) -> None:
    """Write ``data`` as a pickle, creating the parent folder."""
    parent = osp.dirname(osp.abspath(out_file))
    os.makedirs(parent, exist_ok=True)
    with open(out_file, 'wb') as f:
        pickle.dump(data, f, protocol=4)


def convert_ntu(skeleton_dir: str,
                out_file: Optional[str] = None,
                benchmark: str = 'ntu60',
                missing_list: Union[None, bool, str, Iterable[str]] = None,
                max_bodies: int = 2,
                denoise: bool = True,
                progress: bool = True,
                return_stats: bool = False) -> Union[dict, Tuple[dict, dict]]:
    """Convert a folder of raw NTU RGB+D skeletons to a pyskl pickle.

    Files of the other benchmark are left out (``ntu60`` keeps setups <= 17
    and actions <= 60), as are the samples of the missing-skeleton list and
    files without any body (with a warning). Samples are sorted by name.

    Args:
        skeleton_dir (str): Folder searched recursively for ``.skeleton``
            files.
        out_file (str, optional): Where to write the pickle. Defaults to None
            (nothing is written).
        benchmark (str): ``'ntu60'`` or ``'ntu120'``. Defaults to ``'ntu60'``.
        missing_list (None | bool | str | Iterable[str]): Samples to skip, see
            :func:`load_missing_list`. Defaults to None (the shipped list).
        max_bodies (int): Largest number of actors per sample. Defaults to 2.
        denoise (bool): Whether to drop noisy bodies. Defaults to True.
        progress (bool): Whether to show a tqdm progress bar. Defaults to
            True.
        return_stats (bool): Whether to also return counts. Defaults to False.

    Returns:
        dict | tuple[dict, dict]: The pickle content ``{'split': ...,
        'annotations': ...}``; with ``return_stats`` also a dict with
        ``num_files``, ``num_samples``, ``skipped_benchmark``,
        ``skipped_missing_list``, ``skipped_empty`` (counts),
        ``empty_files`` (names) and ``splits`` (split name -> count).

    Raises:
        AnnotationError: On a malformed file, an empty folder or when no
            sample is left.
    """
    if benchmark not in BENCHMARKS:
        raise ValueError(f'benchmark must be one of {sorted(BENCHMARKS)}, '
                         f'got {benchmark!r}')
    files = find_skeleton_files(skeleton_dir)
    missing = load_missing_list(missing_list, benchmark)
    todo = [n for n in files if in_benchmark(parse_sample_name(n), benchmark)]
    stats = dict(
        num_files=len(files),
        skipped_benchmark=len(files) - len(todo),
        skipped_missing_list=0,
        skipped_empty=0,
        empty_files=[])
    names = [n for n in todo if n not in missing]
    stats['skipped_missing_list'] = len(todo) - len(names)

    iterator = names
    if progress:
        from tqdm import tqdm
        iterator = tqdm(names, desc=f'{benchmark} skeletons', unit='file')
    annotations = []
    for name in iterator:
        anno = convert_sample(files[name], max_bodies, denoise)
        if anno is None:
            stats['empty_files'].append(name)
        else:
            annotations.append(anno)
    stats['skipped_empty'] = len(stats['empty_files'])
    if not annotations:
        raise AnnotationError(
            f'{skeleton_dir}: no {benchmark} sample left to convert '
            f"({stats['num_files']} file(s): {stats['skipped_benchmark']} of "
            f"another benchmark, {stats['skipped_missing_list']} in the "
            f"missing list, {stats['skipped_empty']} without skeleton)")

    source = str(out_file) if out_file is not None else str(skeleton_dir)
    validate_annotations(
        annotations,
        source=source,
        num_classes=BENCHMARKS[benchmark]['num_classes'],
        num_joints=NUM_JOINTS)
    split = make_splits([a['frame_dir'] for a in annotations], benchmark)
    data = dict(split=split, annotations=annotations)
    if out_file is not None:
        _dump(data, str(out_file))
    stats['num_samples'] = len(annotations)
    stats['splits'] = {k: len(v) for k, v in split.items()}
    return (data, stats) if return_stats else data
