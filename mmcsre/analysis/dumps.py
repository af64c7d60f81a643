"""Load ``tools/test.py --dump`` score files and match runs by sample id."""
import os.path as osp
import pickle
from typing import Dict, List, Optional, Sequence

import numpy as np

from mmcsre.evaluation.fusion import FusionError, align
from mmcsre.fileio import safe_pickle_load
from .errors import AnalysisError


def load_dump(path: str) -> Dict:
    """Read one score dump (see ``DumpSkeletonScores``) without running code
    from it.

    Args:
        path (str): The ``.pkl`` file.

    Returns:
        dict: The dump as written.

    Raises:
        AnalysisError: If the file is missing, not a readable pickle, names
            a global other than plain data (it is refused, never run) or is
            not a dict.
    """
    if not osp.isfile(path):
        raise AnalysisError(f'{path}: no such file (write score dumps with '
                            'tools/test.py CONFIG CKPT --dump scores.pkl)')
    try:
        dump = safe_pickle_load(path)
    except pickle.UnpicklingError as err:  # refused global or garbage bytes
        raise AnalysisError(str(err)) from err
    if not isinstance(dump, dict):
        raise AnalysisError(f'{path}: not a score dump (a {type(dump)})')
    return dump


def load_runs(paths: Sequence[str],
              names: Optional[Sequence[str]] = None) -> List[Dict]:
    """Load dumps of several runs and reorder them to the first one's samples,
    matched by id (``frame_dir``).

    Args:
        paths (Sequence[str]): Dump files.
        names (Sequence[str], optional): Run names for messages. Defaults
            to the file names.

    Returns:
        list[dict]: Dumps with identical ``frame_dir`` order and labels;
        ``scores`` (N, K), ``labels`` (N,) as arrays, ``name`` added.

    Raises:
        AnalysisError: On unreadable files, different sample sets, class
            counts, class names or labels, NaN/inf scores, or duplicated
            ids.
    """
    names = list(names or run_names(paths))
    if len(names) != len(paths):
        raise AnalysisError(f'{len(names)} names for {len(paths)} dumps')
    dumps = [load_dump(p) for p in paths]
    try:
        aligned = align(dumps, names)
    except FusionError as err:
        raise AnalysisError(str(err)) from err
    for dump, name in zip(aligned, names):  # classes were compared by align
        dump['scores'] = np.asarray(dump['scores'])
        dump['labels'] = np.asarray(dump['labels']).astype(np.int64)
        dump['name'] = name
    return aligned


def run_names(paths: Sequence[str]) -> List[str]:
    """Default run names: the parent folder for ``.../RUN/scores.pkl`` files,
    else the file name without extension."""
    names = []
    for path in paths:
        stem = osp.splitext(osp.basename(path))[0]
        parent = osp.basename(osp.dirname(osp.abspath(path)))
        names.append(parent if stem == 'scores' and parent else stem)
    return names


def predictions(dump: Dict) -> np.ndarray:
    """(N,) top-1 predicted class of every sample (same in either score
    space)."""
    return np.asarray(dump['scores']).argmax(axis=1)
