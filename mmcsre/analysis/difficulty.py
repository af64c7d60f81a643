"""Difficulty levels: classes bucketed by a reference run's accuracy (csre.txt
Table 7: 90/80, fr-head.md Table 4: 90/70)."""
from typing import Dict, List, Optional, Sequence

import numpy as np

from .errors import AnalysisError

# Level names for two thresholds, hardest first.
DEFAULT_LEVEL_NAMES = ('Hard', 'Medium', 'Easy')


def level_names(thresholds: Sequence[float],
                names: Optional[Sequence[str]] = None) -> List[str]:
    """Names of the ``len(thresholds) + 1`` levels, hardest first.

    Args:
        thresholds (Sequence[float]): Accuracy thresholds in %, any order.
        names (Sequence[str], optional): Explicit names. Defaults to
            Hard/Medium/Easy for two thresholds, else ranges like
            ``'80-90%'``.
    """
    edges = sorted(thresholds)
    if names is not None:
        if len(names) != len(edges) + 1:
            raise AnalysisError(f'{len(edges)} thresholds make '
                                f'{len(edges) + 1} levels, got {len(names)} '
                                'level names')
        return list(names)
    if len(edges) == 2:
        return list(DEFAULT_LEVEL_NAMES)
    bounds = ['0'] + [f'{t:g}' for t in edges] + ['100']
    return [f'{lo}-{hi}%' for lo, hi in zip(bounds[:-1], bounds[1:])]


def difficulty_levels(ref_acc: np.ndarray,
                      thresholds: Sequence[float]) -> np.ndarray:
    """Level of every class from the reference run's accuracy.

    A class with accuracy ``a`` (%) is in level ``i`` when ``i`` thresholds
    are ``<= a``: with (90, 80), ``a >= 90`` is Easy (2), ``80 <= a < 90``
    Medium (1), ``a < 80`` Hard (0).

    Args:
        ref_acc (np.ndarray): (K,) reference per-class accuracy in [0, 1].
        thresholds (Sequence[float]): Thresholds in %, in (0, 100).

    Returns:
        np.ndarray: (K,) int level per class, 0 = hardest.
    """
    edges = np.sort(np.asarray(thresholds, dtype=np.float64))
    if edges.size == 0 or np.any(edges <= 0) or np.any(edges >= 100) or \
            np.unique(edges).size != edges.size:
        raise AnalysisError('thresholds must be distinct percentages in '
                            f'(0, 100), got {list(thresholds)}')
    if np.isnan(ref_acc).any():
        empty = np.flatnonzero(np.isnan(ref_acc)).tolist()
        raise AnalysisError(f'classes {empty} have no samples in the '
                            'reference run, so they have no difficulty')
    return np.searchsorted(edges, 100 * ref_acc, side='right')


def level_accuracy(labels: np.ndarray, preds: np.ndarray,
                   class_level: np.ndarray, num_levels: int) -> np.ndarray:
    """Top-1 accuracy over the samples of each level's classes.

    Args:
        labels (np.ndarray): (N,) true classes.
        preds (np.ndarray): (N,) predicted classes.
        class_level (np.ndarray): (K,) level of every class.
        num_levels (int): Number of levels.

    Returns:
        np.ndarray: (num_levels,) accuracy in [0, 1]; NaN for an empty
        level.
    """
    sample_level = class_level[labels]
    total = np.bincount(sample_level, minlength=num_levels)
    correct = np.bincount(
        sample_level, weights=(labels == preds), minlength=num_levels)
    with np.errstate(invalid='ignore', divide='ignore'):
        return np.where(total > 0, correct / np.maximum(total, 1), np.nan)


def level_rows(runs: Sequence[Dict], class_level: np.ndarray,
               names: Sequence[str]) -> List[Dict]:
    """Table rows: one per run, accuracy (%) per level, plus the change from
    the first run for the others.

    Args:
        runs (Sequence[dict]): ``name``, ``labels`` (N,), ``preds`` (N,).
        class_level (np.ndarray): (K,) level of every class.
        names (Sequence[str]): Level names, hardest first.
    """
    accs = [
        level_accuracy(r['labels'], r['preds'], class_level, len(names))
        for r in runs
    ]
    rows = []
    for run, acc in zip(runs, accs):
        row = {'run': run['name']}
        for j, name in enumerate(names):
            row[f'{name} (%)'] = round(100 * float(acc[j]), 2)
        rows.append(row)
    for run, acc in zip(runs[1:], accs[1:]):
        row = {'run': f'{run["name"]} - {runs[0]["name"]}'}
        for j, name in enumerate(names):
            row[f'{name} (%)'] = round(100 * float(acc[j] - accs[0][j]), 2)
        rows.append(row)
    return rows
