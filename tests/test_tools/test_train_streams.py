"""tools/train_streams.py: four-stream training with resume, fusion and the
fused MultiStreamRecognizer, which must equal tools/ensemble.py."""
import json
import os.path as osp

import mmengine
import numpy as np
import pytest
from helpers import DEMO_CONFIG, REPO_ROOT, run_tool

SMALL = [
    'train_dataloader.dataset.train_per_class=3',
    'val_dataloader.dataset.val_per_class=2',
    'test_dataloader.dataset.val_per_class=2', 'train_cfg.val_begin=1',
    'train_cfg.val_interval=1', 'default_hooks.checkpoint.interval=1'
]


def test_two_streams_resume_fuse_and_match_ensemble(tmp_path):
    root = tmp_path / 'streams'
    # An interrupted bone run: one of its two epochs done, no test yet.
    run_tool([
        'tools/train.py', DEMO_CONFIG, '--work-dir', root /
        'b', '--seed', '0', '--cfg-options'
    ] + SMALL + ['train_cfg.max_epochs=1', 'model.data_preprocessor.stream=b'])
    assert not osp.exists(root / 'b' / 'done.json')

    out = run_tool([
        'tools/train_streams.py', DEMO_CONFIG, '--work-dir', root, '--streams',
        'j', 'b', '--seed', '0', '--cfg-options'
    ] + SMALL + ['train_cfg.max_epochs=2'])
    assert '[j] training the joint stream' in out
    assert '[b] resuming the bone stream' in out
    assert osp.isfile(root / 'b' / 'epoch_2.pth')
    summary = json.loads((root / 'summary.json').read_text())
    names = [r['name'] for r in summary['rows']]
    assert names == ['joint', 'bone', '2S (J+B)']
    check = summary['fused_recognizer']['2s']
    assert check['same_predictions'] and check['max_abs_diff'] < 1e-6

    # The fused recognizer's dump equals tools/ensemble.py on the dumps.
    ens = tmp_path / 'ens.json'
    table = run_tool([
        'tools/ensemble.py', root / 'j' / 'scores.pkl',
        root / 'b' / 'scores.pkl', '--preset', '2s', '--out-json', ens
    ])
    fused = mmengine.load(root / 'fused_2s_scores.pkl')
    j, b = (mmengine.load(root / s / 'scores.pkl') for s in 'jb')
    assert fused['frame_dir'] == j['frame_dir'] == b['frame_dir']
    np.testing.assert_allclose(
        fused['scores'], j['scores'] + b['scores'], rtol=0, atol=1e-6)
    top1 = json.loads(ens.read_text())['rows'][-1]['top1']
    labels = np.asarray(fused['labels'])
    assert top1 == pytest.approx(
        float((fused['scores'].argmax(1) == labels).mean()))
    assert 'fused' in table

    # A second run finds every stream done and only fuses.
    again = run_tool([
        'tools/train_streams.py', DEMO_CONFIG, '--work-dir', root, '--streams',
        'j', 'b', '--no-fused-check', '--cfg-options'
    ] + SMALL + ['train_cfg.max_epochs=2'])
    assert '[j] done already' in again and '[b] done already' in again


def test_rejects_a_config_without_stream_preprocessor(tmp_path):
    cfg = tmp_path / 'plain.py'
    cfg.write_text(f"_base_ = '{DEMO_CONFIG}'\n"
                   'model = dict(data_preprocessor=dict(_delete_=True, '
                   "type='ActionDataPreprocessor'))\n")
    with pytest.raises(AssertionError, match='streams need type='):
        run_tool(['tools/train_streams.py', cfg, '--work-dir', tmp_path])
    bone = osp.join(REPO_ROOT, 'configs', 'demo',
                    'stgcn-tiny_1xb16-bone-15e_synthetic.py')
    with pytest.raises(AssertionError, match='give the joint-stream config'):
        run_tool(['tools/train_streams.py', bone, '--work-dir', tmp_path])
