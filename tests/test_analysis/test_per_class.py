"""Per-class accuracy and its change between runs."""
import numpy as np
import pytest

from mmcsre.analysis import (accuracy_changes, group_accuracy,
                             per_class_accuracy)


def test_per_class_accuracy_counts_each_class_and_marks_empty_ones():
    labels = np.array([0, 0, 0, 0, 1, 1, 3])
    preds = np.array([0, 0, 0, 1, 1, 0, 3])
    acc = per_class_accuracy(labels, preds, 4)
    assert acc[0] == pytest.approx(0.75)
    assert acc[1] == pytest.approx(0.5)
    assert np.isnan(acc[2])  # no samples
    assert acc[3] == 1.0


def test_accuracy_changes_picks_above_threshold_gains_first():
    ref = np.array([0.5, 0.9, 0.6, 0.8, 0.7])
    other = np.array([0.6, 0.9, 0.5, 0.81, 0.9])
    # Changes: +0.1, 0, -0.1, +0.01, +0.2.
    assert accuracy_changes(ref, other, 0.05).tolist() == [4, 0, 2]
    assert accuracy_changes(ref, other).tolist() == [4, 0, 3, 2]
    assert accuracy_changes(ref, other, -1).tolist() == [4, 0, 3, 1, 2]


def test_group_accuracy_is_mean_class_accuracy():
    acc = np.array([1.0, 0.5, 0.0, 0.25])
    assert group_accuracy(acc, [[0, 1], [2, 3, 1]]).tolist() == \
        pytest.approx([0.75, 0.25])
