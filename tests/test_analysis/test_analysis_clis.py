"""Every tools/analysis command line on small synthetic inputs: outputs, and
bad or mismatched inputs ending with ``error: ...`` and status 2."""
import csv
import os
import os.path as osp
import re
import subprocess
import sys

import numpy as np
import pytest
import torch
from analysis_helpers import SMALL_DATA, demo_configs, make_dump
from helpers import REPO_ROOT

from mmcsre.analysis import save_features

NAMES = ['wave', 'clap', 'jump', 'kick']
# 40 samples, 10 per class. Run b gains 2 samples on 'clap' and loses 5 on
# 'kick' against run a.
LABELS = np.repeat(np.arange(4), 10)
PREDS_A = LABELS.copy()
PREDS_A[[10, 11, 12]] = 0  # clap 70 %
PREDS_A[[20]] = 3  # jump 90 %
PREDS_B = LABELS.copy()
PREDS_B[[10]] = 0  # clap 90 %
PREDS_B[[20]] = 3  # jump 90 %
PREDS_B[[30, 31, 32, 33, 34]] = 1  # kick 50 %
CFG_OPTIONS = [f'{k}={v}' for k, v in SMALL_DATA.items()]


@pytest.fixture
def dumps(write_dump, tmp_path):
    label_map = tmp_path / 'names.txt'
    label_map.write_text('\n'.join(NAMES) + '\n')
    return (write_dump('a', make_dump(LABELS, PREDS_A)),
            write_dump('b', make_dump(LABELS, PREDS_B)), str(label_map))


def _rows(path):
    with open(path, newline='') as f:
        return list(csv.DictReader(f))


def _is_png(path, max_bytes=300_000):
    with open(path, 'rb') as f:
        head = f.read(8)
    return head == b'\x89PNG\r\n\x1a\n' and os.path.getsize(path) < max_bytes


def _fails(module, argv, capsys, message):
    capsys.readouterr()  # drop earlier output
    with pytest.raises(SystemExit) as exit_:
        module.run(module.main, argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith('error: ') and message in err, err


def test_class_accuracy_diff(tool, dumps, tmp_path):
    a, b, label_map = dumps
    out = tmp_path / 'out'
    tool('class_accuracy_diff').main([
        a, b, '--names', 'A', 'B', '--label-map', label_map, '--threshold',
        '10', '--group-size', '1', '--out-dir',
        str(out)
    ])
    rows = _rows(out / 'class_accuracy_diff.csv')
    assert [r['name'] for r in rows] == ['clap', 'wave', 'jump', 'kick']
    assert [float(r['change (points)']) for r in rows] == [20, 0, 0, -50]
    assert rows[0]['A (%)'] == '70.0' and rows[0]['B (%)'] == '90.0'
    md = (out / 'class_accuracy_diff.md').read_text()
    assert '2 classes change by more than 10 points' in md
    assert _is_png(out / 'class_accuracy_diff.png')
    groups = _rows(out / 'ambiguous_groups.csv')
    clap = next(g for g in groups if g['anchor'] == 'clap')
    assert clap['confused with'] == 'wave'
    assert float(clap['change (points)']) == pytest.approx(10.0)
    assert _is_png(out / 'ambiguous_groups.png')


@pytest.mark.parametrize('other, message', [
    (make_dump(LABELS[:30], PREDS_B[:30]), 'different samples'),
    (make_dump(LABELS, PREDS_B, num_classes=5), 'has 5 classes'),
])
def test_mismatched_dumps_are_errors(tool, dumps, write_dump, capsys, tmp_path,
                                     other, message):
    other = write_dump('other', other)
    out = ['--out-dir', str(tmp_path / 'out')]
    for name in ('class_accuracy_diff', 'difficulty_levels',
                 'confusion_matrix'):
        _fails(tool(name), [dumps[0], other] + out, capsys, message)


def test_label_map_of_another_dataset_is_an_error(tool, dumps, capsys,
                                                  tmp_path):
    _fails(
        tool('confusion_matrix'),
        [dumps[0], '--label-map', 'nwucla', '--out-dir',
         str(tmp_path)], capsys, "'nwucla' has 10 names but the run has 4")


def test_label_map_contradicting_the_dumps_names_is_refused(
        tool, write_dump, capsys, tmp_path):
    """A synthetic-data dump stores its 10 class names; NW-UCLA's map also has
    10 names, but other ones: refused, whichever tool reads it."""
    from mmcsre.datasets.synthetic import CLASSES
    labels = np.arange(20) % 10
    dump = write_dump('synthetic', make_dump(labels, labels, classes=CLASSES))
    for name, args in (('confusion_matrix', [dump]),
                       ('difficulty_levels', [dump]), ('class_accuracy_diff',
                                                       [dump, dump])):
        _fails(
            tool(name),
            args + ['--label-map', 'nwucla', '--out-dir',
                    str(tmp_path)], capsys,
            f"{dump}: its classes ('{CLASSES[0]}'")
    capsys.readouterr()
    # without --label-map the stored names are used
    tool('confusion_matrix').main([dump, '--out-dir', str(tmp_path)])
    assert CLASSES[0] in (tmp_path /
                          'confusion_counts_synthetic.csv').read_text()


def test_difficulty_levels(tool, dumps, tmp_path):
    a, b, label_map = dumps
    out = tmp_path / 'out'
    tool('difficulty_levels').main([
        a, b, '--thresholds', '90', '80', '--label-map', label_map,
        '--out-dir',
        str(out)
    ])
    rows = _rows(out / 'difficulty_levels.csv')
    # Run a: clap 70 % -> Hard; wave, jump, kick >= 90 % -> Easy.
    assert [r['run'] for r in rows] == ['a', 'b', 'b - a']
    assert rows[0]['Hard (%)'] == '70.0' and rows[1]['Hard (%)'] == '90.0'
    assert rows[0]['Medium (%)'] == ''  # no class
    assert float(rows[1]['Easy (%)']) == 80.0  # (10 + 9 + 5) / 30
    md = (out / 'difficulty_levels.md').read_text()
    assert '- Hard: 1 class(es), 10 samples: clap (70.0)' in md
    assert '| a | 70 | n/a | 96.67 |' in md
    assert _is_png(out / 'difficulty_levels.png')


def test_confusion_matrix(tool, dumps, tmp_path):
    a, b, label_map = dumps
    out = tmp_path / 'out'
    tool('confusion_matrix').main([
        a, b, '--label-map', label_map, '--top-k', '2', '--out-dir',
        str(out)
    ])
    rows = _rows(out / 'confusion_matrix.csv')
    assert [(r['run'], r['true'], r['predicted'], r['count'])
            for r in rows] == [('a', 'clap', 'wave', '3'),
                               ('a', 'jump', 'kick', '1'),
                               ('b', 'kick', 'clap', '5'),
                               ('b', 'clap', 'wave', '1')]
    counts = list(csv.reader(open(out / 'confusion_counts_b.csv')))
    assert counts[0] == ['true \\ predicted'] + NAMES
    assert counts[4] == ['kick', '0', '5', '0', '5']
    assert _is_png(out / 'confusion_matrix.png')


def _features(path, ids, seed):
    rng = np.random.default_rng(seed)
    labels = np.arange(len(ids)) % 3
    save_features(
        str(path),
        dict(
            feats=(4 * np.eye(8)[labels] +
                   rng.normal(size=(len(ids), 8))).astype(np.float32),
            labels=labels,
            frame_dir=np.array(ids),
            classes=np.array(['x', 'y', 'z'])))
    return str(path)


def test_feature_embedding(tool, tmp_path, capsys):
    ids = [f's{i}' for i in range(18)]
    a = _features(tmp_path / 'a.npz', ids, 0)
    b = _features(tmp_path / 'b.npz', ids, 1)
    out = tmp_path / 'out'
    module = tool('feature_embedding')
    module.main([
        a, b, '--classes', 'x', '2', '--max-iter', '250', '--out-dir',
        str(out)
    ])
    rows = _rows(out / 'feature_embedding.csv')
    assert [r['run'] for r in rows] == ['a', 'b']
    assert rows[0]['samples'] == '12' and rows[0]['classes'] == '2'
    assert float(rows[0]['silhouette (features, cosine)']) > 0.3
    points = _rows(out / 'feature_embedding_points.csv')
    assert len(points) == 24 and {p['class'] for p in points} == {'x', 'z'}
    assert _is_png(out / 'feature_embedding.png')
    c = _features(tmp_path / 'c.npz', ids[:-1] + ['other'], 2)
    _fails(module, [a, c, '--out-dir', str(out)], capsys, 'different samples')
    _fails(module, [a, '--classes', 'w', '--out-dir',
                    str(out)], capsys, "'w' is neither")


def test_extract_features(tool, tmp_path, capsys):
    from mmaction.registry import MODELS
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    config = demo_configs()[0]
    init_default_scope('mmaction')
    model = MODELS.build(Config.fromfile(config).model)
    torch.save(dict(state_dict=model.state_dict()), str(tmp_path / 'm.pth'))
    module = tool('extract_features')
    module.main([
        config,
        str(tmp_path / 'm.pth'), '--out',
        str(tmp_path / 'f.npz'), '--device', 'cpu', '--cfg-options'
    ] + CFG_OPTIONS)
    with np.load(tmp_path / 'f.npz') as data:
        assert data['feats'].shape == (20, 32)
    _fails(
        module,
        [config,
         str(tmp_path / 'none.pth'), '--out',
         str(tmp_path / 'g.npz')], capsys, 'no such file')


def test_model_complexity(tool, tmp_path):
    out = tmp_path / 'out'
    tool('model_complexity').main(
        list(demo_configs()) +
        ['--names', 'base', 'csre', '--out-dir',
         str(out), '--cfg-options'] + CFG_OPTIONS)
    rows = _rows(out / 'model_complexity.csv')
    assert [(r['model'], r['phase']) for r in rows] == [('base', 'test time'),
                                                        ('base', 'training'),
                                                        ('csre', 'test time'),
                                                        ('csre', 'training')]
    assert rows[0]['params'] == rows[2]['params'] == rows[1]['params']
    assert rows[0]['MFLOPs / sample'] == rows[2]['MFLOPs / sample']
    assert int(rows[3]['params']) > int(rows[2]['params'])
    assert 'cls_head.banks.' in (out / 'model_complexity.md').read_text()
    assert _is_png(out / 'model_complexity.png')


def test_model_complexity_labels_long_config_names(tool, tmp_path,
                                                   monkeypatch):
    """Without --names the bars are labelled by the config names without the
    words they share, wrapped and turned, so that they do not overlap."""
    module = tool('model_complexity')
    counts = dict(
        params=dict(test=1e5, train=2e5),
        buffers=dict(test=1e3, train=5e4),
        flops=dict(test=1e8, train=1.1e8),
        input_shape=(1, 1, 52, 20, 3),
        training_only=[],
        uncounted_ops=[])
    monkeypatch.setattr(module, 'model_complexity', lambda *a: counts)
    drawn = []

    def spy(*args, **kwargs):
        drawn.extend(kwargs['axes'])
        return plot_grouped_bars(*args, **kwargs)

    from mmcsre.analysis.plotting import plot_grouped_bars
    monkeypatch.setattr(module, 'plot_grouped_bars', spy)
    configs = [
        f'configs/{m}/{m}_1xb16-joint-motion-100e_ntu120-xsub-keypoint-3d.py'
        for m in ('stgcn-small', 'stgcn-small-csre-official-calibration')
    ]
    out = tmp_path / 'out'
    module.main(configs + ['--out-dir', str(out)])
    panel = drawn[0]
    assert panel['categories'] == [
        'small', 'small-csre-official-\ncalibration'
    ]
    assert panel['xlabel'] == ('stgcn-*_1xb16-joint-motion-100e_ntu120-xsub-'
                               'keypoint-3d')
    assert panel['tick_rotation'] == 30
    assert _is_png(out / 'model_complexity.png')
    # the tables keep the full names
    rows = _rows(out / 'model_complexity.csv')
    assert rows[0]['model'] == osp.splitext(osp.basename(configs[0]))[0]
    drawn.clear()
    module.main(configs +
                ['--names', 'ST-GCN', 'ST-GCN + CSRE', '--out-dir',
                 str(out)])
    assert drawn[0]['categories'] == ['ST-GCN', 'ST-GCN + CSRE']
    assert drawn[0]['xlabel'] == '' and drawn[0]['tick_rotation'] == 30


def test_training_consumption(tool, tmp_path):
    out = tmp_path / 'out'
    tool('training_consumption').main(
        list(demo_configs()) + [
            '--names', 'base', 'csre', '--iters', '1', '--warmup', '0',
            '--same-process', '--out-dir',
            str(out), '--cfg-options'
        ] + CFG_OPTIONS)
    rows = _rows(out / 'training_consumption.csv')
    assert [r['model'] for r in rows] == ['base', 'csre']
    assert all(float(r['peak memory (GiB)']) > 0.05 for r in rows)
    assert all(r['iters / epoch'] == '2' for r in rows)
    # seconds, not 0.0x minutes
    assert all(re.fullmatch(r'\d+\.\d\d? s', r['time / epoch']) for r in rows)
    assert _is_png(out / 'training_consumption.png')


def test_command_line_exit_status(tmp_path):
    env = dict(os.environ)
    env['PYTHONPATH'] = REPO_ROOT + os.pathsep + env.get('PYTHONPATH', '')
    proc = subprocess.run([
        sys.executable, 'tools/analysis/difficulty_levels.py',
        str(tmp_path / 'missing.pkl')
    ],
                          cwd=REPO_ROOT,
                          env=env,
                          capture_output=True,
                          text=True)
    assert proc.returncode == 2
    assert proc.stderr.startswith('error: ') and 'no such file' in \
        proc.stderr
