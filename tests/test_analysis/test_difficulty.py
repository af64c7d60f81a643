"""Difficulty levels from a reference run's per-class accuracy."""
import numpy as np
import pytest

from mmcsre.analysis import (AnalysisError, difficulty_levels, level_accuracy,
                             level_names)
from mmcsre.analysis.difficulty import level_rows


def test_levels_follow_the_papers_thresholds():
    acc = np.array([0.95, 0.90, 0.85, 0.80, 0.75, 0.65])
    # CSRE (90/80): >= 90 Easy, [80, 90) Medium, < 80 Hard.
    assert difficulty_levels(acc, [90, 80]).tolist() == [2, 2, 1, 1, 0, 0]
    # FR Head (90/70), thresholds in any order.
    assert difficulty_levels(acc, [70, 90]).tolist() == [2, 2, 1, 1, 1, 0]
    assert level_names([90, 70]) == ['Hard', 'Medium', 'Easy']
    assert level_names([50, 70,
                        90]) == ['0-50%', '50-70%', '70-90%', '90-100%']


@pytest.mark.parametrize('thresholds', [[], [90, 90], [0, 50], [100]])
def test_bad_thresholds_are_rejected(thresholds):
    with pytest.raises(AnalysisError, match='thresholds'):
        difficulty_levels(np.array([0.5, 0.9]), thresholds)


def test_class_without_samples_has_no_level():
    with pytest.raises(AnalysisError, match='no samples'):
        difficulty_levels(np.array([0.5, np.nan]), [90, 80])


def test_level_accuracy_is_over_the_samples_of_the_levels_classes():
    labels = np.array([0, 0, 0, 1, 2, 2])
    preds = np.array([0, 1, 1, 1, 2, 0])
    class_level = np.array([0, 1, 0])  # classes 0 and 2 hard, 1 medium
    acc = level_accuracy(labels, preds, class_level, 3)
    assert acc[0] == pytest.approx(2 / 5)  # 1 of 3 class-0 + 1 of 2 class-2
    assert acc[1] == 1.0
    assert np.isnan(acc[2])
    runs = [
        dict(name='a', labels=labels, preds=preds),
        dict(name='b', labels=labels, preds=labels)
    ]
    rows = level_rows(runs, class_level, ['Hard', 'Medium', 'Easy'])
    assert [r['run'] for r in rows] == ['a', 'b', 'b - a']
    assert rows[2]['Hard (%)'] == pytest.approx(60.0)
