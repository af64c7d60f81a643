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
    assert class_names(2) == ['class 0', 'class 1']
    # A map that agrees with the stored names, or names the unnamed ones.
    assert class_names(3, str(path), classes=['wave', 'clap', 'jump']) == \
        ['wave', 'clap', 'jump']
    assert class_names(3, str(path), classes=[None, 'clap', None]) == \
        ['wave', 'clap', 'jump']
    assert class_names(3, classes=[None, 'clap', None]) == \
        ['class 0', 'clap', 'class 2']
    assert class_names(3, str(path), classes=[None] * 3)[0] == 'wave'


def test_label_map_contradicting_stored_names_is_refused(tmp_path):
    """NW-UCLA's map on a run of the synthetic data: both have 10 classes, but
    the run stores its own names."""
    from mmcsre.datasets.synthetic import CLASSES
    synthetic = list(CLASSES)
    assert len(synthetic) == len(load_label_map('nwucla'))
    with pytest.raises(AnalysisError) as info:
        class_names(10, 'nwucla', synthetic, source='d/scores.pkl')
    message = str(info.value)
    assert message.startswith(f'd/scores.pkl: its classes ({synthetic[0]!r}')
    assert "differ from label map 'nwucla' ('pick up with one hand'" in \
        message
    assert message.endswith('drop --label-map to use the names it stores')
    # Without stored names a map of the right size is taken as given.
    assert class_names(10, 'nwucla')[0] == 'pick up with one hand'


def test_class_count_mismatch_is_an_error(tmp_path):
    with pytest.raises(AnalysisError, match='60 names but the run has 120'):
        class_names(120, 'ntu60')
    with pytest.raises(AnalysisError, match='neither a file nor'):
        class_names(10, str(tmp_path / 'missing.txt'))
    with pytest.raises(AnalysisError, match='stored class names has 2'):
        class_names(3, classes=['a', 'b'])
