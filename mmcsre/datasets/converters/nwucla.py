"""Northwestern-UCLA Multiview Action 3D skeletons to a pyskl pickle.

Input is the ``all_sqe`` release (CTR-GCN's preprocessing): one JSON file
per sequence, ``aAA_sSS_eEE_vVV.json`` (action, subject, environment/take,
view) with key ``skeletons``: T x 20 joints x (x, y, z), Kinect v1 order
(:data:`mmcsre.structures.NW_UCLA`). Either the folder or a zip of it.

Cross-view protocol: views 1 and 2 train (1,020 sequences), view 3 val
(464). The 10 action ids map to labels 0-9 in increasing order.
"""
import json
import os
import os.path as osp
import re
import zipfile
from typing import Dict, Iterator, List, Optional, Tuple

import numpy as np
from tqdm import tqdm

from mmcsre.datasets.validation import AnnotationError, validate_annotations

ACTION_IDS = (1, 2, 3, 4, 5, 6, 8, 9, 11, 12)
CLASSES = ('pick up with one hand', 'pick up with two hands', 'drop trash',
           'walk around', 'sit down', 'stand up', 'donning', 'doffing',
           'throw', 'carry')
TRAIN_VIEWS = (1, 2)
VAL_VIEWS = (3, )
NUM_JOINTS = 20
NAME_PATTERN = re.compile(r'a(\d+)_s(\d+)_e(\d+)_v(\d+)\.json$')


def parse_name(name: str) -> Dict[str, int]:
    """Parse ``aAA_sSS_eEE_vVV.json`` into its ids.

    Returns:
        dict: ``action``, ``subject``, ``take`` and ``view`` as ints.
    """
    match = NAME_PATTERN.search(osp.basename(name))
    if match is None:
        raise AnnotationError(f'{name}: file name does not match '
                              "'aAA_sSS_eEE_vVV.json'")
    action, subject, take, view = map(int, match.groups())
    return dict(action=action, subject=subject, take=take, view=view)


def _source_kind(source: str) -> str:
    """``'zip'`` or ``'folder'``; raise if ``source`` is neither."""
    if zipfile.is_zipfile(source):
        return 'zip'
    if osp.isdir(source):
        return 'folder'
    if not osp.exists(source):
        raise FileNotFoundError(f'{source}: no such file or folder')
    raise FileNotFoundError(f'{source}: neither a folder nor a zip file')


def _iter_json(source: str) -> Iterator[Tuple[str, bytes]]:
    """Yield ``(name, raw bytes)`` of every ``.json`` in a folder or zip."""
    if _source_kind(source) == 'zip':
        with zipfile.ZipFile(source) as zf:
            for name in sorted(zf.namelist()):
                if name.endswith('.json'):
                    yield f'{source}:{name}', zf.read(name)
    else:
        for name in sorted(os.listdir(source)):
            if name.endswith('.json'):
                with open(osp.join(source, name), 'rb') as f:
                    yield osp.join(source, name), f.read()


def _count_json(source: str) -> int:
    """Number of ``.json`` files in a folder or zip."""
    if _source_kind(source) == 'zip':
        with zipfile.ZipFile(source) as zf:
            return sum(n.endswith('.json') for n in zf.namelist())
    return sum(n.endswith('.json') for n in os.listdir(source))


def read_sequence(name: str, raw: bytes) -> Dict:
    """Turn one JSON file into a pyskl annotation.

    Args:
        name (str): The file (quoted in errors).
        raw (bytes): Its contents.

    Returns:
        dict: ``frame_dir``, ``label``, ``total_frames``, ``keypoint``
        (1, T, 20, 3) float32, and ``view``/``subject``/``take``.
    """
    ids = parse_name(name)
    if ids['action'] not in ACTION_IDS:
        raise AnnotationError(f'{name}: unknown action id a{ids["action"]:02d}'
                              f'; NW-UCLA has {list(ACTION_IDS)}')
    try:
        skeletons = json.loads(raw)['skeletons']
        kp = np.asarray(skeletons, dtype=np.float32)
    except (ValueError, KeyError, TypeError) as err:
        raise AnnotationError(
            f"{name}: cannot read 'skeletons' ({type(err).__name__}: {err})"
        ) from err
    if kp.ndim != 3 or kp.shape[1:] != (NUM_JOINTS, 3):
        raise AnnotationError(f"{name}: 'skeletons' must be T x {NUM_JOINTS}"
                              f' x 3, got shape {kp.shape}')
    if kp.shape[0] == 0:
        raise AnnotationError(f'{name}: empty sequence (0 frames)')
    if not np.isfinite(kp).all():
        raise AnnotationError(f"{name}: 'skeletons' holds NaN/inf")
    frame_dir = osp.splitext(osp.basename(name.split(':')[-1]))[0]
    return dict(
        frame_dir=frame_dir,
        label=ACTION_IDS.index(ids['action']),
        total_frames=kp.shape[0],
        keypoint=kp[None],
        view=ids['view'],
        subject=ids['subject'],
        take=ids['take'])


def convert_nwucla(source: str,
                   out_file: Optional[str] = None,
                   progress: bool = True) -> Dict:
    """Convert the NW-UCLA ``all_sqe`` release to a pyskl-style dict.

    Args:
        source (str): The ``all_sqe`` folder or a zip holding it.
        out_file (str, optional): Where to write the pickle. Defaults to
            None (only return it).
        progress (bool): Show a progress bar. Defaults to True.

    Returns:
        dict: ``{'split': {'train': [...], 'val': [...]}, 'annotations':
        [...], 'classes': [...]}``.

    Raises:
        FileNotFoundError: If ``source`` is missing, or neither a folder nor
            a zip file.
        AnnotationError: On a malformed sequence, or when none is found.
    """
    annotations: List[Dict] = []
    _source_kind(source)  # raise before a progress bar starts
    items = _iter_json(source)
    if progress:
        items = tqdm(
            items, total=_count_json(source), desc='NW-UCLA', unit='seq')
    for name, raw in items:
        annotations.append(read_sequence(name, raw))
    if not annotations:
        raise AnnotationError(f'{source}: no aAA_sSS_eEE_vVV.json files')
    validate_annotations(
        annotations,
        source=str(source),
        num_classes=len(ACTION_IDS),
        num_joints=NUM_JOINTS)
    split = dict(
        train=[
            a['frame_dir'] for a in annotations if a['view'] in TRAIN_VIEWS
        ],
        val=[a['frame_dir'] for a in annotations if a['view'] in VAL_VIEWS])
    data = dict(split=split, annotations=annotations, classes=list(CLASSES))
    if out_file is not None:
        import mmengine
        mmengine.mkdir_or_exist(osp.dirname(osp.abspath(out_file)))
        mmengine.dump(data, out_file)
    return data
