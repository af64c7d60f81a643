"""Shipped label maps and class-name resolution."""
import pytest

from mmcsre.analysis import (LABEL_MAPS, AnalysisError, class_names,
                             load_label_map)
from mmcsre.datasets.converters.nwucla import CLASSES as NWUCLA_CLASSES


def test_shipped_maps_have_the_datasets_class_counts():
    ntu120 = load_label_map('ntu120')
    assert len(ntu120) == len(set(ntu120)) == 120
    assert load_label_map('ntu60') == ntu120[:60]
    assert ntu120[0] == 'drink water'
    assert ntu120[59] == 'walking apart from each other'
    assert ntu120[119].startswith('finger-guessing game')
    assert load_label_map('nwucla') == list(NWUCLA_CLASSES)
    assert sorted(LABEL_MAPS) == ['ntu120', 'ntu60', 'nwucla']


def test_class_names_sources_in_order(tmp_path):
    path = tmp_path / 'map.txt'
    path.write_text('# my classes\nwave\n\nclap\njump\n')
    assert class_names(3, str(path)) == ['wave', 'clap', 'jump']
    assert class_names(2, classes=['x', 'y']) == ['x', 'y']
    assert class_names(3, str(path), classes=['x', 'y', 'z'])[0] == 'wave'
    assert class_names(2) == ['class 0', 'class 1']


def test_class_count_mismatch_is_an_error(tmp_path):
    with pytest.raises(AnalysisError, match='60 names but the run has 120'):
        class_names(120, 'ntu60')
    with pytest.raises(AnalysisError, match='neither a file nor'):
        class_names(10, str(tmp_path / 'missing.txt'))
    with pytest.raises(AnalysisError, match='stored class names has 2'):
        class_names(3, classes=['a', 'b'])
