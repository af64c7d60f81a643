"""Late fusion of per-sample score dumps (``tools/test.py --dump``)."""
import os
import os.path as osp
import pickle
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from mmcsre.fileio import safe_pickle_load
from .dump_scores import SCORE_SPACES

# Stream weight presets: J:B (2S) and J:B:JM:BM (4S).
WEIGHT_PRESETS: Dict[str, Tuple[float, ...]] = {
    '2s': (1.0, 1.0),
    '4s': (2.0, 2.0, 1.0, 1.0),  # mmaction2 / pyskl convention
    '4s-ctrgcn': (0.6, 0.6, 0.4, 0.4),  # CTR-GCN / CSRE code
}


class FusionError(ValueError):
    """Dumps that cannot be fused safely."""


def to_space(scores: np.ndarray, src: str, dst: str) -> np.ndarray:
    """Convert (N, K) scores between ``'prob'`` and ``'logit'``.

    Logits become probabilities by softmax; probabilities become logits by
    ``log`` (logits up to a per-sample constant, which softmax and argmax
    ignore).
    """
    for space in (src, dst):
        if space not in SCORE_SPACES:
            raise FusionError(f'unknown score space {space!r}; '
                              f'expected one of {SCORE_SPACES}')
    scores = scores.astype(np.float64)
    if src == dst:
        return scores
    if dst == 'prob':
        shifted = scores - scores.max(axis=1, keepdims=True)
        exp = np.exp(shifted)
        return exp / exp.sum(axis=1, keepdims=True)
    return np.log(np.clip(scores, 1e-12, None))


def topk_accuracy(scores: np.ndarray, labels: np.ndarray, k: int = 1) -> float:
    """Fraction of samples whose label is among the top-``k`` scores."""
    k = min(k, scores.shape[1])
    top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    return float((top == labels[:, None]).any(axis=1).mean())


def _check_dump(dump: Dict, name: str) -> None:
    """Raise ``FusionError`` if a dump lacks a key, its scores are not a finite
    (N, K) array, its row counts differ or a sample id repeats."""
    if not isinstance(dump, dict):
        raise FusionError(f'{name}: not a score dump (a '
                          f'{type(dump).__name__}, not a dict)')
    missing = [
        k for k in ('frame_dir', 'scores', 'labels', 'score_space')
        if k not in dump
    ]
    if missing:
        raise FusionError(f'{name}: not a score dump, missing {missing} '
                          '(write one with tools/test.py --dump)')
    ids = list(dump['frame_dir'])
    scores = np.asarray(dump['scores'])
    if scores.ndim != 2 or not (np.issubdtype(scores.dtype, np.floating)
                                or np.issubdtype(scores.dtype, np.integer)):
        raise FusionError(f'{name}: scores must be a numeric (N, K) array, '
                          f'got {scores.dtype} of shape {scores.shape}')
    if len(ids) != len(scores) or len(ids) != len(dump['labels']):
        raise FusionError(f'{name}: {len(ids)} ids, {len(scores)} '
                          f'score rows and {len(dump["labels"])} labels')
    finite = np.isfinite(scores).all(axis=1)
    if not finite.all():
        row = int(np.argmin(finite))
        raise FusionError(
            f'{name}: the scores of sample {ids[row]!r} (row {row}) hold '
            f'NaN/inf ({int((~finite).sum())} of {len(ids)} rows do)')
    seen = set()
    dup = [i for i in ids if i in seen or seen.add(i)]
    if dup:
        raise FusionError(f'{name}: duplicated sample ids, e.g. {dup[:3]}')


def check_classes(dumps: Sequence[Dict], names: Sequence[str]) -> None:
    """Raise if two dumps name their classes differently.

    Dumps without ``classes`` (or with ``None``) are not compared.

    Args:
        dumps (Sequence[dict]): Loaded dumps.
        names (Sequence[str]): Their names (or files), quoted in errors.

    Raises:
        FusionError: Naming both dumps and the first differing class.
    """
    ref, ref_name = None, None
    for dump, name in zip(dumps, names):
        classes = dump.get('classes')
        if classes is None:
            continue
        classes = [str(c) for c in classes]
        if ref is None:
            ref, ref_name = classes, name
            continue
        if classes != ref:
            i = next(
                (i for i, (a, b) in enumerate(zip(classes, ref)) if a != b),
                min(len(classes), len(ref)))
            here = classes[i] if i < len(classes) else '<none>'
            there = ref[i] if i < len(ref) else '<none>'
            raise FusionError(
                f'{name} and {ref_name} name their classes differently '
                f'({len(classes)} vs {len(ref)} classes; class {i} is '
                f'{here!r} vs {there!r}); fuse dumps of the same class list')


def load_score_dump(path: Union[str, os.PathLike]) -> Dict:
    """Read and check one ``tools/test.py --dump`` file without running code
    from it (see :func:`mmcsre.fileio.safe_pickle_load`).

    Args:
        path (str | os.PathLike): The ``.pkl`` dump.

    Returns:
        dict: The dump (see ``DumpSkeletonScores``), ``scores`` as an
        array.

    Raises:
        FusionError: If the file is missing, unreadable, refused (it names a
            global other than plain data) or not a valid dump; the message
            names the file (and the sample, for NaN/inf scores).
    """
    path = os.fspath(path)
    if not osp.isfile(path):
        raise FusionError(f'{path}: no such file (write score dumps with '
                          'tools/test.py CONFIG CKPT --dump scores.pkl)')
    try:
        dump = safe_pickle_load(path)
    except pickle.UnpicklingError as err:  # refused global or garbage
        raise FusionError(str(err)) from err
    _check_dump(dump, path)
    dump = dict(dump)
    dump['scores'] = np.asarray(dump['scores'])
    return dump


def align(dumps: Sequence[Dict], names: Sequence[str]) -> List[Dict]:
    """Reorder every dump to the first one's sample order, by id.

    Raises:
        FusionError: On duplicated ids, differing id sets, differing labels
            for the same id, differing class counts or class names, or
            NaN/inf scores.
    """
    for dump, name in zip(dumps, names):
        _check_dump(dump, name)
    check_classes(dumps, names)
    ref_ids = list(dumps[0]['frame_dir'])
    ref_pos = {x: i for i, x in enumerate(ref_ids)}
    out = []
    for dump, name in zip(dumps, names):
        ids = list(dump['frame_dir'])
        if set(ids) != set(ref_ids):
            only_here = sorted(set(ids) - set(ref_ids))[:3]
            only_ref = sorted(set(ref_ids) - set(ids))[:3]
            raise FusionError(
                f'{name} and {names[0]} hold different samples: only in '
                f'{name}: {only_here}..., only in {names[0]}: {only_ref}...')
        num, ref_num = (np.shape(d['scores'])[1] for d in (dump, dumps[0]))
        if num != ref_num:
            raise FusionError(
                f'{name} has {num} classes, {names[0]} has {ref_num}')
        order = np.argsort([ref_pos[x] for x in ids])
        aligned = dict(dump)
        aligned['frame_dir'] = ref_ids
        aligned['scores'] = np.asarray(dump['scores'])[order]
        aligned['labels'] = np.asarray(dump['labels'])[order]
        if not np.array_equal(aligned['labels'], dumps[0]['labels']):
            bad = ref_ids[int(
                np.argmax(
                    aligned['labels'] != np.asarray(dumps[0]['labels'])))]
            raise FusionError(f'{name} and {names[0]} disagree on the label '
                              f'of sample {bad!r}')
        out.append(aligned)
    return out


def fuse(dumps: Sequence[Dict],
         weights: Sequence[float],
         names: Optional[Sequence[str]] = None,
         space: str = 'prob') -> Dict:
    """Weighted sum of aligned per-stream scores in one score space.

    Args:
        dumps (Sequence[dict]): Loaded ``--dump`` files.
        weights (Sequence[float]): One weight per dump.
        names (Sequence[str], optional): Names for messages and the table.
        space (str): ``'prob'`` or ``'logit'``: each dump is converted to it
            before the weighted sum. Defaults to ``'prob'``.

    Returns:
        dict: ``frame_dir``, ``labels``, ``scores`` (fused, (N, K)),
        ``score_space`` and ``rows``: per stream and fused, ``name``,
        ``weight``, ``top1``, ``top5``.
    """
    names = list(names or [f'stream{i}' for i in range(len(dumps))])
    if not dumps:
        raise FusionError('nothing to fuse')
    if len(weights) != len(dumps):
        raise FusionError(f'{len(weights)} weights for {len(dumps)} dumps')
    aligned = align(dumps, names)
    labels = np.asarray(aligned[0]['labels'])
    fused = np.zeros_like(aligned[0]['scores'], dtype=np.float64)
    rows = []
    for dump, name, weight in zip(aligned, names, weights):
        scores = to_space(dump['scores'], dump['score_space'], space)
        fused += weight * scores
        rows.append(
            dict(
                name=name,
                weight=float(weight),
                top1=topk_accuracy(scores, labels, 1),
                top5=topk_accuracy(scores, labels, 5)))
    rows.append(
        dict(
            name='fused',
            weight=float(sum(weights)),
            top1=topk_accuracy(fused, labels, 1),
            top5=topk_accuracy(fused, labels, 5)))
    return dict(
        frame_dir=aligned[0]['frame_dir'],
        labels=labels,
        scores=fused,
        score_space=space,
        rows=rows)


def markdown_table(rows: Sequence[Dict]) -> str:
    """The per-stream and fused accuracies as a markdown table."""
    lines = [
        '| stream | weight | top-1 (%) | top-5 (%) |',
        '| --- | --- | --- | --- |'
    ]
    for r in rows:
        weight = r['weight']
        weight = f'{weight:g}' if isinstance(weight, (int, float)) else weight
        lines.append(f'| {r["name"]} | {weight} | '
                     f'{100 * r["top1"]:.2f} | {100 * r["top5"]:.2f} |')
    return '\n'.join(lines)
