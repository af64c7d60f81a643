"""A missing optional library gives a clear message with the pip command."""
import sys

import numpy as np
import pytest

from mmcsre.analysis import MissingDependencyError, require, tsne
from mmcsre.analysis.plotting import plot_accuracy_changes


def _hide(monkeypatch, *modules):
    for name in modules:
        monkeypatch.setitem(sys.modules, name, None)  # import raises


def test_missing_scikit_learn_names_the_install_command(monkeypatch):
    _hide(monkeypatch, 'sklearn', 'sklearn.manifold')
    with pytest.raises(MissingDependencyError) as err:
        tsne(np.zeros((10, 4)))
    assert 'scikit-learn is needed' in str(err.value)
    assert 'pip install -r requirements/analysis.txt' in str(err.value)


def test_missing_matplotlib_names_the_install_command(monkeypatch, tmp_path):
    _hide(monkeypatch, 'matplotlib', 'matplotlib.pyplot')
    with pytest.raises(MissingDependencyError, match='matplotlib is needed'):
        plot_accuracy_changes(['a'], np.array([1.0]), ('x', 'y'), 't',
                              str(tmp_path / 'x.png'))


def test_cli_reports_missing_library_as_error(monkeypatch, tmp_path, capsys,
                                              tool):
    from mmcsre.analysis import save_features
    rng = np.random.default_rng(0)
    path = str(tmp_path / 'f.npz')
    save_features(
        path,
        dict(
            feats=rng.normal(size=(8, 4)).astype(np.float32),
            labels=np.arange(8) % 2,
            frame_dir=np.array([f's{i}' for i in range(8)]),
            classes=np.array(['a', 'b'])))
    module = tool('feature_embedding')
    _hide(monkeypatch, 'sklearn', 'sklearn.manifold', 'sklearn.metrics')
    with pytest.raises(SystemExit) as exit_:
        module.run(module.main, [path, '--out-dir', str(tmp_path / 'out')])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith('error: scikit-learn is needed')
    assert 'requirements/analysis.txt' in err
    assert require('numpy') is np
