"""Plain helpers of the analysis tests (fixtures are in conftest.py):

synthetic score dumps and the tiny demo configs.
"""
import os.path as osp

import numpy as np
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


def demo_configs():
    """(baseline, CSRE) tiny demo configs."""
    return DEMO_CONFIG, CSRE_DEMO_CONFIG
