"""Per-class accuracy of a run and its change between two runs."""
from typing import Dict, List, Optional, Sequence

import numpy as np


def per_class_accuracy(labels: np.ndarray, preds: np.ndarray,
                       num_classes: int) -> np.ndarray:
    """Top-1 accuracy of every class.

    Args:
        labels (np.ndarray): (N,) true classes.
        preds (np.ndarray): (N,) predicted classes.
        num_classes (int): Number of classes K.

    Returns:
        np.ndarray: (K,) float accuracy in [0, 1]; NaN for a class without
        samples.
    """
    support = np.bincount(labels, minlength=num_classes)
    correct = np.bincount(
        labels, weights=(labels == preds), minlength=num_classes)
    with np.errstate(invalid='ignore', divide='ignore'):
        return np.where(support > 0, correct / np.maximum(support, 1), np.nan)


def class_support(labels: np.ndarray, num_classes: int) -> np.ndarray:
    """(K,) number of samples of every class."""
    return np.bincount(labels, minlength=num_classes)


def accuracy_changes(ref_acc: np.ndarray,
                     other_acc: np.ndarray,
                     threshold: float = 0.0) -> np.ndarray:
    """Classes whose accuracy changes by more than ``threshold``.

    Args:
        ref_acc (np.ndarray): (K,) accuracy of the reference run.
        other_acc (np.ndarray): (K,) accuracy of the compared run.
        threshold (float): Minimum absolute change, same unit as the
            accuracies. Defaults to 0 (every changed class).

    Returns:
        np.ndarray: Class indices, largest gain first, largest loss last.
    """
    diff = other_acc - ref_acc
    picked = np.flatnonzero(np.abs(diff) > threshold)
    return picked[np.argsort(-diff[picked], kind='stable')]


def group_accuracy(acc: np.ndarray,
                   groups: Sequence[Sequence[int]]) -> np.ndarray:
    """Mean class accuracy of every group of classes (FR Head's group-wise
    accuracy, fr-head.md Sec. 4.5).

    Args:
        acc (np.ndarray): (K,) per-class accuracy.
        groups (Sequence[Sequence[int]]): Class indices of each group.

    Returns:
        np.ndarray: (G,) mean accuracy per group.
    """
    return np.array([np.nanmean(acc[list(g)]) for g in groups])


def diff_rows(names: Sequence[str],
              support: np.ndarray,
              ref_acc: np.ndarray,
              other_acc: np.ndarray,
              run_names: Sequence[str],
              picked: Optional[np.ndarray] = None) -> List[Dict]:
    """Table rows (accuracies in %) of every class, or of ``picked``."""
    index = range(len(names)) if picked is None else picked
    ref, other = run_names
    return [{
        'class':
        int(i),
        'name':
        names[i],
        'samples':
        int(support[i]),
        f'{ref} (%)':
        round(100 * float(ref_acc[i]), 2),
        f'{other} (%)':
        round(100 * float(other_acc[i]), 2),
        'change (points)':
        round(100 * float(other_acc[i] - ref_acc[i]), 2),
    } for i in index]
