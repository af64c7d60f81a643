"""Confusion matrices, confused pairs and ambiguous groups."""
import numpy as np
import pytest

from mmcsre.analysis import (ambiguous_groups, confusion_matrix, row_normalize,
                             top_confused_pairs)


def _example():
    labels = np.array([0, 0, 0, 0, 1, 1, 1, 2, 2])
    preds = np.array([0, 1, 1, 2, 1, 0, 0, 2, 2])
    return confusion_matrix(labels, preds, 4)


def test_confusion_matrix_rows_are_true_classes():
    cm = _example()
    assert cm.tolist() == [[1, 2, 1, 0], [2, 1, 0, 0], [0, 0, 2, 0],
                           [0, 0, 0, 0]]
    rates = row_normalize(cm)
    assert rates[0].tolist() == pytest.approx([0.25, 0.5, 0.25, 0])
    assert rates[3].tolist() == [0, 0, 0, 0]  # no samples, no NaN


def test_top_confused_pairs_most_samples_first_without_empty_cells():
    pairs = top_confused_pairs(_example(), 10, ['a', 'b', 'c', 'd'])
    # (1 -> 0) and (0 -> 1) both have 2 samples; 1 -> 0 is the higher rate.
    assert [(p['true'], p['predicted'], p['count']) for p in pairs] == \
        [('b', 'a', 2), ('a', 'b', 2), ('a', 'c', 1)]
    assert pairs[0]['rate (%)'] == pytest.approx(66.67)
    assert len(top_confused_pairs(_example(), 1)) == 1


def test_ambiguous_groups_add_the_most_confused_classes():
    groups = ambiguous_groups(_example(), group_size=2)
    assert groups == [[0, 1, 2], [1, 0], [2], [3]]
    assert ambiguous_groups(_example(), 1, anchors=[0]) == [[0, 1]]
