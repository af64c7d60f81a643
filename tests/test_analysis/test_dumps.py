"""Loading score dumps and matching runs by sample id."""
import numpy as np
import pytest
from analysis_helpers import make_dump

from mmcsre.analysis import AnalysisError, load_runs, predictions


def test_runs_are_matched_by_id(write_dump):
    labels = np.array([0, 1, 2, 1])
    a = make_dump(labels, [0, 1, 2, 0])
    order = [3, 1, 0, 2]
    b = make_dump(
        labels[order],
        np.array([1, 1, 2, 1])[order],
        ids=[a['frame_dir'][i] for i in order])
    ref, other = load_runs([write_dump('a', a), write_dump('b', b)])
    assert ref['name'] == 'a' and other['name'] == 'b'  # folder names
    assert other['frame_dir'] == ref['frame_dir']
    assert other['labels'].tolist() == labels.tolist()
    assert predictions(other).tolist() == [1, 1, 2, 1]


OTHER_IDS = ['s000', 's001', 's002', 'x']


@pytest.mark.parametrize('other, message', [
    (make_dump([0, 1, 2, 2], [0, 1, 2, 2],
               ids=OTHER_IDS), 'different samples'),
    (make_dump([0, 1, 2, 1], [0, 1, 2, 1], num_classes=5), '5 classes'),
    (make_dump([0, 1, 2, 2], [0, 1, 2, 1]), 'disagree on the label'),
    (make_dump([0, 1, 2, 1], [0, 1, 2, 1],
               classes=list('abc')), 'name their classes differently'),
])
def test_mismatched_runs_are_errors(write_dump, other, message):
    ref = make_dump([0, 1, 2, 1], [0, 1, 2, 1], classes=list('xyz'))
    with pytest.raises(AnalysisError, match=message):
        load_runs([write_dump('ref', ref), write_dump('other', other)])


def test_unreadable_inputs_are_errors(tmp_path, write_dump):
    with pytest.raises(AnalysisError, match='no such file'):
        load_runs([str(tmp_path / 'nope.pkl')])
    bad = dict(make_dump([0, 1], [0, 1]))
    del bad['labels']
    with pytest.raises(AnalysisError, match='not a score dump'):
        load_runs([write_dump('bad', bad)])
    path = write_dump('ok', make_dump([0, 1], [0, 1]))
    with pytest.raises(AnalysisError, match='2 names for 1 dumps'):
        load_runs([path], ['a', 'b'])
