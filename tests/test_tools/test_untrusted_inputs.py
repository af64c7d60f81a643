"""Crafted files never run code: every command line that reads a pickle (score
dumps, annotation files, checkpoints) refuses one whose unpickling would call
``os.system``, exits non-zero and names the file, and the payload's marker file
is never created."""
import os
import os.path as osp
import pickle
import subprocess
import sys

import mmengine
import numpy as np
import pytest
import torch
from helpers import DEMO_CONFIG, REPO_ROOT

REFUSED = 'refused to unpickle global'


class Payload:
    """Unpickling runs ``touch MARKER`` (through ``os.system``)."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return os.system, (f'touch {self.marker}', )


def good_dump(num=6):
    labels = np.arange(num) % 3
    rng = np.random.default_rng(0)
    return dict(
        frame_dir=[f's{i}' for i in range(num)],
        sample_idx=np.arange(num),
        scores=rng.dirichlet(np.ones(3), num).astype(np.float32),
        labels=labels.astype(np.int64),
        score_space='prob',
        classes=['a', 'b', 'c'])


def write_pickle(path, obj, protocol=pickle.DEFAULT_PROTOCOL):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(obj, protocol=protocol))
    return path


@pytest.fixture
def files(tmp_path):
    """A good dump, an evil dump (a valid-looking dict whose scores carry the
    payload), an evil annotation file and the marker path."""
    marker = tmp_path / 'MARKER'
    good = tmp_path / 'good' / 'scores.pkl'
    mmengine.mkdir_or_exist(good.parent)
    mmengine.dump(good_dump(), str(good))
    evil_dump = dict(good_dump(), scores=Payload(marker))
    evil = write_pickle(tmp_path / 'evil' / 'scores.pkl', evil_dump)
    evil_ann = write_pickle(
        tmp_path / 'evil_ann.pkl',
        dict(
            split=dict(train=['a']),
            annotations=[
                dict(frame_dir='a', label=0, keypoint=Payload(marker))
            ]),
        protocol=4)
    return dict(
        tmp=tmp_path, marker=marker, good=good, evil=evil, evil_ann=evil_ann)


def run_cli(args, cwd, timeout=300):
    """Run ``python ARGS`` in ``cwd`` (outputs stay out of the repo)."""
    env = dict(os.environ)
    env['PYTHONPATH'] = REPO_ROOT + os.pathsep + env.get('PYTHONPATH', '')
    return subprocess.run(
        [sys.executable] + [str(a) for a in args],
        cwd=str(cwd),
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout)


def tool(*parts):
    return osp.join(REPO_ROOT, 'tools', *parts)


def assert_refused(proc, path, marker, what=REFUSED, traceback_ok=False):
    out = proc.stdout[-3000:] + proc.stderr[-3000:]
    assert proc.returncode != 0, out
    assert not marker.exists(), 'the payload ran:\n' + out
    assert str(path) in proc.stderr, out
    assert what in proc.stderr, out
    if not traceback_ok:
        assert 'Traceback' not in proc.stderr, out
        assert f'error: {path}' in proc.stderr, out


# --------------------------------------------------------------------------
# score dumps
# --------------------------------------------------------------------------
def test_ensemble(files):
    proc = run_cli([tool('ensemble.py'), files['good'], files['evil']],
                   files['tmp'])
    assert_refused(proc, files['evil'], files['marker'])


@pytest.mark.parametrize('name, args', [
    ('confusion_matrix', ['{evil}']),
    ('class_accuracy_diff', ['{good}', '{evil}']),
    ('difficulty_levels', ['{good}', '{evil}']),
    ('compare_runs', [
        '--baseline', '{good}', '{good}', '--method', '{evil}', '{good}',
        '--no-plot', '--bootstrap', '10'
    ]),
])
def test_analysis_tools(files, name, args):
    args = [a.format(**files) for a in args]
    proc = run_cli([tool('analysis', f'{name}.py')] + args +
                   ['--out-dir', files['tmp'] / 'out'], files['tmp'])
    assert_refused(proc, files['evil'], files['marker'])


def test_train_streams(files):
    root = files['tmp'] / 'streams'
    for stream, src in (('j', files['good']), ('b', files['evil'])):
        (root / stream).mkdir(parents=True)
        (root / stream / 'scores.pkl').write_bytes(src.read_bytes())
        mmengine.dump(
            dict(stream=stream, checkpoint='x.pth', finished=0.0),
            str(root / stream / 'done.json'))
    proc = run_cli([
        tool('train_streams.py'), DEMO_CONFIG, '--work-dir', root, '--streams',
        'j', 'b', '--gpus', '0', '--no-fused-check'
    ], files['tmp'])
    assert_refused(proc, root / 'b' / 'scores.pkl', files['marker'])


# --------------------------------------------------------------------------
# annotation files
# --------------------------------------------------------------------------
def test_check_pkl(files):
    proc = run_cli([tool('data', 'check_pkl.py'), files['evil_ann']],
                   files['tmp'])
    assert_refused(proc, files['evil_ann'], files['marker'])


def test_make_label_fraction_split(files):
    out = files['tmp'] / 'out.pkl'
    proc = run_cli(
        [tool('data', 'make_label_fraction_split.py'), files['evil_ann'], out],
        files['tmp'])
    assert_refused(proc, files['evil_ann'], files['marker'])
    assert not out.exists()


def skeleton_config(tmp_path, ann_file):
    """The demo config with its datasets read from ``ann_file``."""
    cfg = tmp_path / 'ann_config.py'
    dataset = (f"dict(_delete_=True, type='SkeletonDataset', "
               f"ann_file={str(ann_file)!r}, split='train', pipeline=[])")
    cfg.write_text(f'_base_ = {DEMO_CONFIG!r}\n'
                   f'train_dataloader = dict(dataset={dataset})\n'
                   f'val_dataloader = dict(dataset={dataset})\n'
                   'test_dataloader = val_dataloader\n')
    return cfg


def test_train_with_evil_ann_file(files):
    cfg = skeleton_config(files['tmp'], files['evil_ann'])
    proc = run_cli([
        tool('train.py'), cfg, '--work-dir', files['tmp'] / 'work',
        '--cfg-options', 'train_cfg.max_epochs=1'
    ], files['tmp'])
    assert_refused(proc, files['evil_ann'], files['marker'])


@pytest.fixture
def demo_checkpoint(tmp_path):
    """A checkpoint of the demo model (random weights)."""
    from mmaction.registry import MODELS
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    cfg = Config.fromfile(DEMO_CONFIG)
    init_default_scope('mmaction')
    model = MODELS.build(cfg.model)
    path = tmp_path / 'demo.pth'
    torch.save(dict(state_dict=model.state_dict()), path)
    return path


def test_knn_eval_with_evil_ann_file(files, demo_checkpoint):
    cfg = skeleton_config(files['tmp'], files['evil_ann'])
    proc = run_cli([
        tool('analysis', 'knn_eval.py'), cfg, demo_checkpoint, '--device',
        'cpu', '--out-dir', files['tmp'] / 'knn'
    ], files['tmp'])
    assert_refused(proc, files['evil_ann'], files['marker'])


# --------------------------------------------------------------------------
# checkpoints (torch.load(weights_only=True) refuses the payload)
# --------------------------------------------------------------------------
@pytest.fixture
def evil_checkpoint(files, demo_checkpoint):
    ckpt = torch.load(demo_checkpoint, weights_only=True)
    ckpt['meta'] = dict(note=Payload(files['marker']))
    path = files['tmp'] / 'evil.pth'
    torch.save(ckpt, path)
    return path


@pytest.mark.parametrize('name, args', [
    ('knn_eval', ['--out-dir', '{tmp}/knn']),
    ('extract_features', ['--out', '{tmp}/f.npz']),
])
def test_feature_tools_with_evil_checkpoint(files, evil_checkpoint, name,
                                            args):
    args = [a.format(**files) for a in args]
    proc = run_cli([
        tool('analysis', f'{name}.py'), DEMO_CONFIG, evil_checkpoint,
        '--device', 'cpu'
    ] + args, files['tmp'])
    assert_refused(
        proc,
        evil_checkpoint,
        files['marker'],
        what='refused by torch.load(weights_only=True)')
    assert 'posix.system' in proc.stderr or 'nt.system' in proc.stderr
