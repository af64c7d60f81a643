"""Confusion matrices, the most confused class pairs and FR Head's ambiguous
groups."""
from typing import Dict, List, Optional, Sequence

import numpy as np


def confusion_matrix(labels: np.ndarray, preds: np.ndarray,
                     num_classes: int) -> np.ndarray:
    """(K, K) int64 counts: row = true class, column = predicted class."""
    flat = np.bincount(
        labels * num_classes + preds, minlength=num_classes * num_classes)
    return flat.reshape(num_classes, num_classes)


def row_normalize(cm: np.ndarray) -> np.ndarray:
    """(K, K) rates: each row divided by its class's sample count (rows of
    classes without samples stay 0)."""
    total = cm.sum(axis=1, keepdims=True)
    return cm / np.maximum(total, 1)


def top_confused_pairs(cm: np.ndarray,
                       k: int = 10,
                       names: Optional[Sequence[str]] = None) -> List[Dict]:
    """The ``k`` off-diagonal cells with the most samples.

    Args:
        cm (np.ndarray): (K, K) confusion counts.
        k (int): Number of pairs. Defaults to 10.
        names (Sequence[str], optional): Class names. Defaults to indices.

    Returns:
        list[dict]: ``true``, ``predicted`` (names), ``count`` and
        ``rate (%)`` (share of the true class's samples), most confused
        first; cells with no sample are left out.
    """
    num = cm.shape[0]
    names = list(names) if names is not None else [str(i) for i in range(num)]
    off = cm.astype(np.float64).copy()
    np.fill_diagonal(off, 0)
    rates = row_normalize(cm)
    # Most samples first; ties: higher rate, then lower class indices.
    order = np.lexsort((np.arange(num * num), -rates.ravel(), -off.ravel()))
    rows = []
    for flat in order[:k]:
        true, pred = divmod(int(flat), num)
        if off[true, pred] == 0:
            break
        rows.append({
            'true': names[true],
            'predicted': names[pred],
            'count': int(cm[true, pred]),
            'rate (%)': round(100 * float(rates[true, pred]), 2)
        })
    return rows


def ambiguous_groups(cm: np.ndarray,
                     group_size: int = 3,
                     anchors: Optional[Sequence[int]] = None) -> List:
    """FR Head's ambiguous groups (fr-head.md Sec. 4.5): each anchor class with
    the ``group_size`` classes its samples are most often misclassified as.

    Args:
        cm (np.ndarray): (K, K) confusion counts of the reference run.
        group_size (int): Confused classes per anchor. Defaults to 3.
        anchors (Sequence[int], optional): Anchor classes. Defaults to all.

    Returns:
        list[list[int]]: ``[anchor, confused...]`` per anchor; classes its
        samples were never predicted as are not added, so a group may be
        smaller.
    """
    off = cm.copy()
    np.fill_diagonal(off, 0)
    anchors = range(cm.shape[0]) if anchors is None else anchors
    anchors = np.asarray(list(anchors), dtype=np.int64)
    top = np.argsort(-off[anchors], axis=1, kind='stable')[:, :group_size]
    counts = np.take_along_axis(off[anchors], top, axis=1)
    return [[int(a)] + [int(c) for c, n in zip(t, cnt) if n > 0]
            for a, t, cnt in zip(anchors, top, counts)]
