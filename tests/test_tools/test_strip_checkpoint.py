"""strip -> stock mmaction2 (mmcsre blocked) predicts identical scores."""
import re
import subprocess
import sys

import numpy as np
import torch
from helpers import REPO_ROOT, run_tool
from mmengine.config import Config
from mmengine.registry import init_default_scope

import mmcsre  # noqa: F401

CSRE_CONFIG = f'{REPO_ROOT}/configs/csre/stgcn-tiny-csre_1xb16-joint-15e_synthetic.py'  # noqa: E501
BASE_CONFIG = f'{REPO_ROOT}/configs/demo/stgcn-tiny_1xb16-joint-15e_synthetic.py'  # noqa: E501

# Runs without mmcsre: importing it fails, and torch.load keeps its default
# allowlist (weights_only=True).
STOCK_SCRIPT = r'''
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == 'mmcsre' or name.startswith('mmcsre.'):
            raise ImportError('mmcsre is blocked in this test')
sys.meta_path.insert(0, Block())
import numpy as np, torch
from mmengine.config import Config
from mmaction.utils import register_all_modules
from mmaction.registry import MODELS
register_all_modules()
cfg = Config.fromfile(sys.argv[1])
assert cfg.custom_imports.allow_failed_imports  # loads without mmcsre
model = MODELS.build(cfg.model).eval()
ckpt = torch.load(sys.argv[2], map_location='cpu', weights_only=True)
model.load_state_dict(ckpt['state_dict'], strict=True)
inputs = torch.from_numpy(np.load(sys.argv[3]))
with torch.no_grad():
    scores = model(inputs, mode='tensor')
np.save(sys.argv[4], scores.numpy())
assert 'mmcsre' not in sys.modules
print(type(model).__name__, type(model.cls_head).__name__)
'''


def test_strip_then_stock_mmaction_gives_identical_scores(tmp_path):
    from mmaction.registry import MODELS
    work = tmp_path / 'work'
    run_tool([
        'tools/train.py', CSRE_CONFIG, '--work-dir', work, '--cfg-options',
        'train_dataloader.dataset.train_per_class=4',
        'val_dataloader.dataset.val_per_class=1', 'train_cfg.max_epochs=1',
        'train_cfg.val_begin=2'
    ])
    ckpt = work / 'epoch_1.pth'
    out = tmp_path / 'deploy.pth'
    log = run_tool(['tools/strip_checkpoint.py', CSRE_CONFIG, ckpt, out])
    assert "'cls_head.decompose.', 'cls_head.banks.'" in log

    rng = np.random.default_rng(0)
    inputs = rng.normal(size=(3, 1, 1, 32, 25, 3)).astype(np.float32)
    np.save(tmp_path / 'inputs.npy', inputs)
    proc = subprocess.run([
        sys.executable, '-c', STOCK_SCRIPT, tmp_path / 'deploy.py', out,
        tmp_path / 'inputs.npy', tmp_path / 'stock.npy'
    ],
                          capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert 'RecognizerGCN GCNHead' in proc.stdout

    # The CSRE model, as trained, on the same inputs.
    init_default_scope('mmaction')
    csre = MODELS.build(Config.fromfile(CSRE_CONFIG).model)
    state = torch.load(ckpt, map_location='cpu', weights_only=True)
    csre.load_state_dict(state['state_dict'], strict=True)
    csre.eval()
    with torch.no_grad():
        expected = csre(torch.from_numpy(inputs), mode='tensor').numpy()
    np.testing.assert_allclose(
        np.load(tmp_path / 'stock.npy'), expected, rtol=0, atol=1e-6)

    # The deploy config runs through tools/test.py and scores like the
    # training checkpoint.
    small = ['--cfg-options', 'test_dataloader.dataset.val_per_class=2']
    deployed = run_tool([
        'tools/test.py', tmp_path / 'deploy.py', out, '--work-dir', tmp_path /
        'test_deploy'
    ] + small)
    trained = run_tool([
        'tools/test.py', CSRE_CONFIG, ckpt, '--work-dir', tmp_path /
        'test_trained'
    ] + small)
    acc = re.compile(r'acc/top1: ([0-9.]+)')
    assert acc.findall(deployed) and \
        acc.findall(deployed) == acc.findall(trained)

    # Test-time size equals the baseline's: the same tensors, no more.
    baseline = MODELS.build(Config.fromfile(BASE_CONFIG).model)
    stripped = torch.load(out, weights_only=True)['state_dict']
    assert stripped.keys() == baseline.state_dict().keys()
    assert sum(v.numel() for v in stripped.values()) == sum(
        v.numel() for v in baseline.state_dict().values())
    assert sum(v.numel() for v in state['state_dict'].values()) > sum(
        v.numel() for v in stripped.values())

    # ... and so are the test-time FLOPs (mmengine's counter).
    flops = [_test_flops(m, inputs[:1]) for m in (baseline, csre)]
    assert flops[0] == flops[1] > 0


def _test_flops(model, inputs):
    from mmengine.analysis import FlopAnalyzer

    class TestMode(torch.nn.Module):

        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, x):
            return self.model(x, mode='tensor')

    analyzer = FlopAnalyzer(
        TestMode(model.eval()), (torch.from_numpy(inputs), ))
    analyzer.unsupported_ops_warnings(False)
    analyzer.uncalled_modules_warnings(False)
    return analyzer.total()


def test_help_describes_the_tool_in_whole_sentences():
    out = run_tool(['tools/strip_checkpoint.py', '--help'])
    assert 'optimizer state) from a checkpoint.' in ' '.join(out.split())
