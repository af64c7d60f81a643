"""tools/export_project.py: the exported CSRE project trains one iteration
through mmaction2's own tools/train.py with mmcsre impossible to import."""
import ast
import glob
import json
import os
import os.path as osp
import pickle
import re
import subprocess
import sys

import mmaction
import numpy as np
import pytest
from helpers import REPO_ROOT, run_tool

CONFIG = 'configs/csre/stgcn-small-csre_1xb16-joint-30e_nwucla-keypoint-3d.py'
MMACTION_TRAIN = osp.join(
    osp.dirname(mmaction.__file__), '.mim', 'tools', 'train.py')

# Put first on PYTHONPATH: Python imports it at start-up. Any import of
# mmcsre fails and is recorded; at exit the main process lists which
# mmcsre / csre modules were loaded and from where.
SITECUSTOMIZE = r'''
import atexit, importlib.abc, json, os, sys

_PID, _ATTEMPTS = os.getpid(), []


class _BlockMmcsre(importlib.abc.MetaPathFinder):

    def find_spec(self, name, path, target=None):
        if name == 'mmcsre' or name.startswith('mmcsre.'):
            _ATTEMPTS.append(name)
            raise ModuleNotFoundError(f'{name} is blocked in this test')
        return None


sys.meta_path.insert(0, _BlockMmcsre())


@atexit.register
def _report():
    if os.getpid() != _PID:
        return
    modules = {
        k: getattr(m, '__file__', None)
        for k, m in list(sys.modules.items())
        if k.split('.')[0] in ('mmcsre', 'csre')
    }
    with open(os.environ['EXPORT_TEST_REPORT'], 'w') as f:
        json.dump(dict(attempts=_ATTEMPTS, modules=modules), f)
'''


@pytest.fixture(scope='module')
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp('projects') / 'csre'
    log = run_tool(['tools/export_project.py', 'csre', '--out', out])
    assert 'wrote' in log
    return str(out)


def _tiny_nwucla(path, num_train=16, num_val=8):
    """A pickle in the converted NW-UCLA format: 20 joints, one person."""
    rng = np.random.default_rng(0)
    annos, split = [], {'train': [], 'val': []}
    for i in range(num_train + num_val):
        frames = int(rng.integers(20, 40))
        name = f'sample{i:02d}'
        annos.append(
            dict(
                frame_dir=name,
                label=i % 10,
                total_frames=frames,
                keypoint=rng.normal(size=(1, frames, 20,
                                          3)).astype(np.float32)))
        split['train' if i < num_train else 'val'].append(name)
    with open(path, 'wb') as f:
        pickle.dump(dict(split=split, annotations=annos), f)


def _imports(path):
    """Top-level package names a Python file imports (absolute only)."""
    names = set()
    for node in ast.walk(ast.parse(open(path).read())):
        if isinstance(node, ast.Import):
            names |= {a.name.split('.')[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level:
            names.add((node.module or '').split('.')[0])
    return names


def test_layout_and_no_mmcsre_left(exported):
    for rel in ('README.md', 'csre/__init__.py',
                'csre/models/heads/stfd_head.py',
                'csre/models/memory/contrastive_memory_bank.py',
                'csre/models/recognizers/multi_stream_recognizer.py',
                'csre/engine/hooks/memory_bank_init_hook.py',
                'csre/datasets/skeleton_dataset.py', 'tests/conftest.py',
                'tests/test_stfd_head.py', CONFIG,
                'configs/_base_/default_runtime.py'):
        assert osp.isfile(osp.join(exported, rel)), rel
    # Every CSRE config and the bases it needs came along.
    ours = {
        osp.basename(p)
        for p in glob.glob(osp.join(REPO_ROOT, 'configs', 'csre', '*.py'))
    }
    theirs = set(os.listdir(osp.join(exported, 'configs', 'csre')))
    assert ours == theirs
    py_files = glob.glob(osp.join(exported, '**', '*.py'), recursive=True)
    offenders = [p for p in py_files if 'mmcsre' in _imports(p)]
    assert not offenders
    with open(osp.join(exported, 'configs/_base_/default_runtime.py')) as f:
        runtime = f.read()
    assert "imports=['csre']" in runtime and "'mmcsre'" not in runtime
    # FR Head is not part of CSRE and is not exported.
    assert not osp.exists(osp.join(exported, 'csre/models/heads/fr_head.py'))

    with open(osp.join(exported, 'README.md')) as f:
        readme = f.read()
    for section in ('## Abstract', '## Usage', '## Results', '## Citation'):
        assert section in readme
    assert '](../' not in readme  # no links back into the mmcsre tree
    assert '](./configs/csre/stgcn-small-csre_1xb16-joint-30e' in readme
    for link in readme.split('](./')[1:]:
        target = link.split(')')[0]
        assert osp.isfile(osp.join(exported, target)), target


def _run_blocked(args, cwd, tmp_path):
    """Run ``python ARGS`` with mmcsre blocked and only ``cwd`` added to the
    path; returns the process and the blocker's report."""
    blocker = tmp_path / 'blocker'
    blocker.mkdir(exist_ok=True)
    (blocker / 'sitecustomize.py').write_text(SITECUSTOMIZE)
    report = tmp_path / 'report.json'
    env = {
        k: v
        for k, v in os.environ.items() if not k.startswith('PYTHONPATH')
    }
    env.update(
        PYTHONPATH=f'{blocker}{os.pathsep}{cwd}',
        EXPORT_TEST_REPORT=str(report))
    proc = subprocess.run(
        [sys.executable] + [str(a) for a in args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=600)
    assert report.is_file(), f'the blocker did not run:\n{proc.stdout[-3000:]}'
    return proc, json.loads(report.read_text())


def test_trains_with_mmaction2_train_py_without_mmcsre(exported, tmp_path):
    ann = tmp_path / 'tiny_nwucla.pkl'
    _tiny_nwucla(ann)
    work = tmp_path / 'work'
    options = [
        f'{d}_dataloader.dataset.ann_file={ann}'
        for d in ('train', 'val', 'test')
    ]
    options += [
        f'{d}_dataloader.{k}={v}' for d in ('train', 'val', 'test')
        for k, v in (('num_workers', 0), ('persistent_workers', False))
    ]
    options += ['train_cfg.max_epochs=1', 'default_hooks.logger.interval=1']
    proc, report = _run_blocked(
        [MMACTION_TRAIN, CONFIG, '--work-dir', work, '--cfg-options'] +
        options, exported, tmp_path)
    log = proc.stdout
    assert proc.returncode == 0, log[-6000:]
    assert report['attempts'] == []
    assert not any(k.split('.')[0] == 'mmcsre' for k in report['modules'])
    # The CSRE modules came from the exported folder.
    for mod in ('csre.models.heads.stfd_head',
                'csre.models.memory.contrastive_memory_bank',
                'csre.engine.hooks.memory_bank_init_hook'):
        assert report['modules'][mod].startswith(exported), mod
    # One training iteration (16 samples, batch 16) with both contrastive
    # losses, then validation and a checkpoint.
    assert 'Epoch(train) [1][1/1]' in log
    assert 'loss_spatial' in log and 'loss_temporal' in log
    assert 'Epoch(val) [1][1/1]' in log
    assert (work / 'epoch_1.pth').is_file()


def test_exported_unit_tests_run_without_mmcsre(exported, tmp_path):
    """Every exported test module imports against the exported package; a few
    of the tests run (all of them take minutes)."""
    selected = ('test_classification_equals_gcn_head or '
                'test_loss_writes_banks_and_weights or '
                'test_recognizer_integration')
    proc, report = _run_blocked([
        '-m', 'pytest', '-q', '-p', 'no:cacheprovider', 'tests', '-k', selected
    ], exported, tmp_path)
    assert proc.returncode == 0, proc.stdout[-6000:]
    assert re.search(r'\b3 passed, \d+ deselected', proc.stdout), \
        proc.stdout[-2000:]
    assert report['attempts'] == []
    assert not any(k.split('.')[0] == 'mmcsre' for k in report['modules'])
