"""Fixtures of the analysis tests: synthetic score dumps, the tiny demo
configs and in-process access to the tools/analysis command lines."""
import importlib.util
import os.path as osp

import mmengine
import numpy as np
import pytest
from helpers import DEMO_CONFIG, REPO_ROOT

CSRE_DEMO_CONFIG = osp.join(REPO_ROOT, 'configs', 'csre',
                            'stgcn-tiny-csre_1xb16-joint-15e_synthetic.py')
# The demo configs' synthetic data, shrunk: 2 training and 2 test samples
# per class (10 classes).
SMALL_DATA = {
    'train_dataloader.dataset.train_per_class': 2,
    'val_dataloader.dataset.val_per_class': 2,
    'test_dataloader.dataset.val_per_class': 2,
}


def make_dump(labels, preds, num_classes=None, ids=None, classes=None):
    """A ``tools/test.py --dump``-style dict whose top-1 predictions are
    ``preds`` (probabilities: 0.9 on the prediction)."""
    labels = np.asarray(labels, dtype=np.int64)
    preds = np.asarray(preds, dtype=np.int64)
    num = num_classes or int(max(labels.max(), preds.max())) + 1
    scores = np.full((len(labels), num), 0.1 / (num - 1), dtype=np.float32)
    scores[np.arange(len(labels)), preds] = 0.9
    return dict(
        frame_dir=list(ids or [f's{i:03d}' for i in range(len(labels))]),
        sample_idx=np.arange(len(labels)),
        scores=scores,
        labels=labels,
        score_space='prob',
        classes=classes)


@pytest.fixture
def write_dump(tmp_path):
    """``write_dump(name, dump) -> path`` of a pickled dump."""

    def write(name, dump):
        path = tmp_path / 'dumps' / name / 'scores.pkl'
        path.parent.mkdir(parents=True, exist_ok=True)
        mmengine.dump(dump, str(path))
        return str(path)

    return write


@pytest.fixture
def tool():
    """``tool(name)``: the module of ``tools/analysis/NAME.py``."""

    def load(name):
        path = osp.join(REPO_ROOT, 'tools', 'analysis', f'{name}.py')
        spec = importlib.util.spec_from_file_location(f'tool_{name}', path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load


def demo_configs():
    """(baseline, CSRE) tiny demo configs."""
    return DEMO_CONFIG, CSRE_DEMO_CONFIG
