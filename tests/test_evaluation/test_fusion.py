"""Late fusion of score dumps: alignment by id, score spaces, errors."""
import json

import mmengine
import numpy as np
import pytest
from helpers import run_tool

from mmcsre.evaluation.fusion import (WEIGHT_PRESETS, FusionError,
                                      check_classes, fuse, load_score_dump,
                                      to_space, topk_accuracy)


def _dump(scores, labels, ids=None, space='prob'):
    scores = np.asarray(scores, dtype=np.float32)
    return dict(
        frame_dir=list(ids or [f's{i}' for i in range(len(scores))]),
        scores=scores,
        labels=np.asarray(labels),
        score_space=space)


def test_space_conversion():
    logits = np.array([[1.0, 2.0, -1.0], [0.0, 0.0, 5.0]])
    prob = to_space(logits, 'logit', 'prob')
    np.testing.assert_allclose(prob.sum(1), 1)
    np.testing.assert_allclose(
        to_space(to_space(prob, 'prob', 'logit'), 'logit', 'prob'), prob)
    with pytest.raises(FusionError, match='unknown score space'):
        to_space(prob, 'probability', 'prob')


def test_weighted_sum_and_accuracies():
    a = _dump([[0.6, 0.4], [0.3, 0.7], [0.8, 0.2]], [0, 0, 1])
    b = _dump([[0.1, 0.9], [0.6, 0.4], [0.4, 0.6]], [0, 0, 1])
    out = fuse([a, b], [2, 1], ['a', 'b'])
    np.testing.assert_allclose(
        out['scores'], 2 * a['scores'] + b['scores'], rtol=1e-6)
    # a predicts [0, 1, 0], b [1, 0, 1], 2a + b [1, 1, 0]; labels [0, 0, 1].
    top1 = [r['top1'] for r in out['rows']]
    assert top1 == pytest.approx([1 / 3, 2 / 3, 0])
    assert out['rows'][-1]['name'] == 'fused'
    assert topk_accuracy(out['scores'], out['labels'], 5) == 1.0


def test_alignment_by_id_not_by_row():
    rng = np.random.default_rng(0)
    scores = rng.random((6, 4))
    labels = rng.integers(0, 4, 6)
    ids = [f'v{i}' for i in range(6)]
    perm = rng.permutation(6)
    a = _dump(scores, labels, ids)
    shuffled = _dump(scores[perm], labels[perm], [ids[i] for i in perm])
    fused = fuse([a, shuffled], [1, 1])
    np.testing.assert_allclose(fused['scores'], 2 * scores, rtol=1e-6)
    assert fused['frame_dir'] == ids


def test_mixed_score_spaces_are_converted():
    logits = np.array([[2.0, 0.0], [0.0, 3.0]])
    a = _dump(logits, [0, 1], space='logit')
    b = _dump(to_space(logits, 'logit', 'prob'), [0, 1], space='prob')
    fused = fuse([a, b], [1, 1], space='prob')
    np.testing.assert_allclose(
        fused['scores'], 2 * to_space(logits, 'logit', 'prob'), rtol=1e-6)


@pytest.mark.parametrize('other,message', [
    (_dump([[1, 0], [0, 1]], [0, 1], ['s0', 's0']), 'duplicated'),
    (_dump([[1, 0], [0, 1]], [0, 1], ['s0', 'x']), 'different samples'),
    (_dump([[1, 0], [0, 1]], [1, 1]), 'disagree on the label'),
    (_dump([[1, 0, 0], [0, 1, 0]], [0, 1]), '3 classes'),
    (dict(scores=np.zeros((2, 2))), 'not a score dump'),
])
def test_unsafe_dumps_are_errors(other, message):
    a = _dump([[1, 0], [0, 1]], [0, 1])
    with pytest.raises(FusionError, match=message):
        fuse([a, other], [1, 1])


def test_weight_count_must_match():
    a = _dump([[1, 0]], [0])
    with pytest.raises(FusionError, match='2 weights for 1 dumps'):
        fuse([a], [1, 1])


def test_presets():
    assert WEIGHT_PRESETS['2s'] == (1.0, 1.0)
    assert WEIGHT_PRESETS['4s'] == (2.0, 2.0, 1.0, 1.0)
    assert WEIGHT_PRESETS['4s-ctrgcn'] == (0.6, 0.6, 0.4, 0.4)


def test_cli_writes_markdown_and_json(tmp_path):
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 5, 20)
    paths = []
    for i in range(4):
        path = tmp_path / f'stream{i}.pkl'
        mmengine.dump(_dump(rng.random((20, 5)), labels), str(path))
        paths.append(path)
    out = run_tool(['tools/ensemble.py'] + paths + [
        '--preset', '4s', '--names', 'j', 'b', 'jm', 'bm', '--out-md',
        tmp_path / 'f.md', '--out-json', tmp_path / 'f.json'
    ])
    assert '| fused | 6 |' in out
    rows = json.loads((tmp_path / 'f.json').read_text())['rows']
    assert [r['name'] for r in rows] == ['j', 'b', 'jm', 'bm', 'fused']
    assert (tmp_path / 'f.md').read_text().startswith('| stream |')
    mmengine.dump(
        _dump(rng.random((20, 5)), labels, space='logits'), str(paths[0]))
    with pytest.raises(AssertionError, match='unknown score space'):
        run_tool(['tools/ensemble.py', paths[0], paths[1]])


def _ensemble_main():
    """tools/ensemble.py's main, in-process."""
    import importlib.util

    from helpers import REPO_ROOT
    spec = importlib.util.spec_from_file_location(
        'ensemble_tool', f'{REPO_ROOT}/tools/ensemble.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


def test_cli_names_train_streams_dumps_by_their_folder(tmp_path, capsys):
    """``WORK/{j,b,jm,bm}/scores.pkl`` (tools/train_streams.py) are rows j, b,
    jm, bm; another file is named by its file name; --names wins."""
    rng = np.random.default_rng(2)
    labels = rng.integers(0, 5, 12)
    paths = []
    for stream in ('j', 'b', 'jm', 'bm'):
        path = tmp_path / 'work' / stream / 'scores.pkl'
        path.parent.mkdir(parents=True)
        mmengine.dump(_dump(rng.random((12, 5)), labels), str(path))
        paths.append(str(path))
    other = tmp_path / 'extra_model.pkl'
    mmengine.dump(_dump(rng.random((12, 5)), labels), str(other))
    main = _ensemble_main()
    out = tmp_path / 'f.json'

    def rows(args):
        main(args + ['--out-json', str(out)])
        return [r['name'] for r in json.loads(out.read_text())['rows']]

    assert rows(paths + ['--preset', '4s']) == \
        ['j', 'b', 'jm', 'bm', 'fused']
    assert rows(paths[:1] + [str(other)]) == ['j', 'extra_model', 'fused']
    assert rows(paths[:2] + ['--names', 'joint', 'bone']) == \
        ['joint', 'bone', 'fused']
    with pytest.raises(FusionError, match='1 names for 2 dumps'):
        main(paths[:2] + ['--names', 'joint'])
    assert '| j |' in capsys.readouterr().out


@pytest.mark.parametrize('bad', [np.nan, np.inf, -np.inf])
def test_non_finite_scores_name_the_sample(bad):
    a = _dump([[1, 0], [0, 1], [0.5, 0.5]], [0, 1, 0], ['s0', 's1', 's2'])
    b = _dump([[1, 0], [0, 1], [0.5, 0.5]], [0, 1, 0], ['s0', 's1', 's2'])
    b['scores'][1, 0] = bad
    with pytest.raises(FusionError) as info:
        fuse([a, b], [1, 1], ['a', 'b'])
    msg = str(info.value)
    assert msg.startswith('b: ') and "sample 's1' (row 1)" in msg
    assert 'NaN/inf' in msg and '1 of 3 rows' in msg


def test_class_names_must_match():
    a = dict(_dump([[1, 0], [0, 1]], [0, 1]), classes=['wave', 'kick'])
    b = dict(_dump([[1, 0], [0, 1]], [0, 1]), classes=['wave', 'punch'])
    none = dict(_dump([[1, 0], [0, 1]], [0, 1]), classes=None)
    fuse([a, none], [1, 1])  # a dump without names is not compared
    with pytest.raises(FusionError) as info:
        fuse([a, none, b], [1, 1, 1], ['a', 'none', 'b'])
    msg = str(info.value)
    assert 'b and a name their classes differently' in msg
    assert "class 1 is 'punch' vs 'kick'" in msg
    with pytest.raises(FusionError, match='1 vs 2 classes'):
        check_classes([a, dict(a, classes=['wave'])], ['x.pkl', 'y.pkl'])


def test_load_score_dump_errors_name_the_file(tmp_path):
    good = tmp_path / 'good.pkl'
    mmengine.dump(_dump([[1, 0], [0, 1]], [0, 1]), str(good))
    assert load_score_dump(good)['frame_dir'] == ['s0', 's1']
    with pytest.raises(FusionError, match=r'nope\.pkl: no such file'):
        load_score_dump(tmp_path / 'nope.pkl')
    garbage = tmp_path / 'garbage.pkl'
    garbage.write_bytes(b'\x80\x04garbage')
    with pytest.raises(FusionError, match='garbage.pkl: not a readable'):
        load_score_dump(garbage)
    listed = tmp_path / 'list.pkl'
    mmengine.dump([1, 2], str(listed))
    with pytest.raises(FusionError, match=r'list\.pkl: not a score dump'):
        load_score_dump(listed)
    nan = tmp_path / 'nan.pkl'
    dump = _dump([[1, 0], [np.nan, 1]], [0, 1], ['v0', 'v1'])
    mmengine.dump(dump, str(nan))
    with pytest.raises(
            FusionError, match=r"nan\.pkl: the scores of sample 'v1'"):
        load_score_dump(nan)


def _ensemble(args):
    """tools/ensemble.py as a user runs it: (exit status, stderr)."""
    import os
    import subprocess
    import sys

    from helpers import REPO_ROOT
    env = dict(os.environ)
    env['PYTHONPATH'] = REPO_ROOT + os.pathsep + env.get('PYTHONPATH', '')
    proc = subprocess.run(
        [sys.executable, f'{REPO_ROOT}/tools/ensemble.py'] +
        [str(a) for a in args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300)
    assert 'Traceback' not in proc.stderr, proc.stderr
    return proc.returncode, proc.stderr


def test_cli_refuses_missing_files_and_different_class_names(tmp_path):
    a, b = tmp_path / 'a.pkl', tmp_path / 'b.pkl'
    mmengine.dump(
        dict(_dump([[1, 0], [0, 1]], [0, 1]), classes=['x', 'y']), str(a))
    mmengine.dump(
        dict(_dump([[1, 0], [0, 1]], [0, 1]), classes=['x', 'z']), str(b))
    code, err = _ensemble([a, b])
    assert code != 0
    assert err.startswith(f'error: {b} and {a} name their classes '
                          'differently'), err
    code, err = _ensemble([a, tmp_path / 'gone.pkl'])
    assert code != 0
    assert err.startswith(f'error: {tmp_path}/gone.pkl: no such file'), err
