"""Class-balanced label-fraction subsets of a split (semi-supervised protocol).

For each fraction f (in percent) a class with n samples in the split keeps
``max(1, round_half_up(f / 100 * n))`` of them (at most n). The subsets are
**nested**: one seeded random permutation is drawn per class and every
fraction takes a prefix of it, so the 1 % subset is inside the 5 % subset,
which is inside the 10 % one, and so on; a different seed draws other
permutations. Ids keep the order of the split.
"""
from typing import Dict, List, Sequence

import numpy as np

from .validation import AnnotationError, select_split


def fraction_split_name(split: str, fraction: float) -> str:
    """Name of a fraction subset, e.g. ``'train_10pct'``, ``'train_0.5pct'``.

    Args:
        split (str): The source split.
        fraction (float): Percent of the labels kept.

    Returns:
        str: ``f'{split}_{fraction:g}pct'``.
    """
    return f'{split}_{fraction:g}pct'


def class_quota(counts: np.ndarray, fraction: float) -> np.ndarray:
    """Samples each class keeps at ``fraction`` percent.

    Args:
        counts (np.ndarray | int): Samples per class in the split (> 0).
        fraction (float): Percent in (0, 100].

    Returns:
        np.ndarray: ``round_half_up(fraction / 100 * counts)`` clipped to
        ``[1, counts]``, int64, the shape of ``counts``.
    """
    counts = np.asarray(counts)
    quota = np.floor(fraction / 100 * counts + 0.5)
    return np.clip(quota, 1, counts).astype(np.int64)


def check_fractions(fractions: Sequence[float]) -> List[float]:
    """Validate label fractions (percent).

    Args:
        fractions (Sequence[float]): Percentages.

    Returns:
        list[float]: The fractions as floats, in the given order.

    Raises:
        ValueError: If a fraction is outside (0, 100], repeated, or the list
            is empty.
    """
    fractions = [float(f) for f in fractions]
    if not fractions:
        raise ValueError('no fraction given')
    bad = [f for f in fractions if not 0 < f <= 100]
    if bad:
        raise ValueError(f'fractions are percentages in (0, 100], got {bad}')
    if len(set(fractions)) != len(fractions):
        raise ValueError(f'repeated fraction in {fractions}')
    return fractions


def class_balanced_subsets(labels: np.ndarray, fractions: Sequence[float],
                           seed: int) -> Dict[float, np.ndarray]:
    """Nested class-balanced subsets of a labelled set.

    Args:
        labels (np.ndarray): (N, ) integer labels.
        fractions (Sequence[float]): Percentages in (0, 100].
        seed (int): Seed of the per-class permutations.

    Returns:
        dict[float, np.ndarray]: ``{fraction: sorted (n_f, ) indices into
        labels}``; for f1 <= f2 the f1 subset is inside the f2 subset.
    """
    fractions = check_fractions(fractions)
    labels = np.asarray(labels).reshape(-1)
    _, inverse, counts = np.unique(
        labels, return_inverse=True, return_counts=True)
    # Shuffle, then group by class keeping the shuffled order: rank[i] is
    # the position of sample i in its class's random permutation.
    perm = np.random.RandomState(seed).permutation(len(labels))
    order = perm[np.argsort(inverse[perm], kind='stable')]
    class_start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.empty(len(labels), dtype=np.int64)
    rank[order] = np.arange(len(labels)) - class_start[inverse[order]]
    out = {}
    for fraction in fractions:
        quota = class_quota(counts, fraction)
        out[fraction] = np.flatnonzero(rank < quota[inverse])
    return out


def add_label_fraction_splits(data: Dict,
                              fractions: Sequence[float],
                              seed: int = 0,
                              split: str = 'train',
                              source: str = '<pickle>') -> Dict:
    """A copy of a pyskl pickle with label-fraction subsets of one split.

    The input is not modified: the result is a new dict with a new ``split``
    dict (the annotation list is shared, not copied).

    Args:
        data (dict): Loaded pickle, ``{'split': ..., 'annotations': ...}``.
        fractions (Sequence[float]): Percentages in (0, 100].
        seed (int): Seed of the subsets. Defaults to 0.
        split (str): Split to subsample. Defaults to ``'train'``.
        source (str): The file, quoted in errors. Defaults to
            ``'<pickle>'``.

    Returns:
        dict: ``data`` with ``split[fraction_split_name(split, f)]`` added
        for every fraction (lists of ids in the split's order).

    Raises:
        AnnotationError: If the split is unknown or a subset name is
            already taken.
        ValueError: If a fraction is outside (0, 100].
    """
    fractions = check_fractions(fractions)
    annos = select_split(data, split, source)
    if not annos:
        raise AnnotationError(f'{source}: split {split!r} is empty')
    ident = 'filename' if 'filename' in annos[0] else 'frame_dir'
    ids = [a[ident] for a in annos]
    labels = np.array([int(np.asarray(a['label']).item()) for a in annos])
    subsets = class_balanced_subsets(labels, fractions, seed)
    new_splits = dict(data['split'])
    for fraction, index in subsets.items():
        name = fraction_split_name(split, fraction)
        if name in new_splits:
            raise AnnotationError(f'{source}: split {name!r} already exists')
        new_splits[name] = [ids[i] for i in index]
    out = dict(data)
    out['split'] = new_splits
    return out
