import importlib.util
import os
import os.path as osp
import pickle
import subprocess
import sys

import numpy as np
import pytest

from mmcsre.datasets.converters import ntu
from mmcsre.datasets.converters.ntu import (convert_ntu, load_missing_list,
                                            parse_sample_name,
                                            parse_skeleton_file, select_bodies)
from mmcsre.datasets.validation import AnnotationError, validate_annotations

REPO_ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..', '..'))
CLI = osp.join(REPO_ROOT, 'tools', 'data', 'ntu', 'ntu_skeleton_to_pkl.py')


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------
def make_body(num_frames, amp=0.05, center=(0., 0., 3.), wide=False, seed=0):
    """A (num_frames, 25, 3) body: a fixed pose plus a sinusoidal sway.

    The pose is taller (y) than wide (x), or the other way round when ``wide``
    (what the spread filter flags as noise).
    """
    rng = np.random.RandomState(seed)
    pose = rng.uniform(-1, 1, size=(25, 3)) * np.array([0.3, 0.8, 0.1])
    if wide:
        pose = pose[:, [1, 0, 2]]
    t = np.arange(num_frames, dtype=np.float64)[:, None, None]
    sway = amp * np.sin(t / 3. + rng.uniform(0, 6, size=(1, 25, 1)))
    return (pose[None] + sway + np.asarray(center)).astype(np.float32)


def skeleton_text(num_frames, tracks):
    """Text of a valid ``.skeleton`` file.

    Args:
        num_frames (int): F on line 1.
        tracks (dict): body_id -> (start frame, (n, 25, 3) joints); the body
            is in frames ``start .. start + n - 1``.
    """
    lines = [str(num_frames)]
    for f in range(num_frames):
        present = [(bid, joints[f - start])
                   for bid, (start, joints) in tracks.items()
                   if start <= f < start + len(joints)]
        lines.append(str(len(present)))
        for bid, joints in present:
            lines.append(f'{bid} 0 1 1 1 1 0 0.01 -0.02 2')
            lines.append('25')
            for j, (x, y, z) in enumerate(joints):
                lines.append(f'{x:.7f} {y:.7f} {z:.7f} 250.1 200.2 '
                             f'960.5 540.5 0.1 0.2 0.3 0.9 {j % 3}')
    return '\n'.join(lines) + '\n'


def write_sample(folder, name, num_frames=20, tracks=None):
    """Write ``folder/name.skeleton``; one 20-frame body by default."""
    if tracks is None:
        tracks = {72057594037931101: (0, make_body(num_frames))}
    path = osp.join(str(folder), name + '.skeleton')
    with open(path, 'w') as f:
        f.write(skeleton_text(num_frames, tracks))
    return path


def convert(folder, **kwargs):
    kwargs.setdefault('progress', False)
    kwargs.setdefault('missing_list', False)
    return convert_ntu(str(folder), **kwargs)


def annos_by_name(data):
    return {a['frame_dir']: a for a in data['annotations']}


# --------------------------------------------------------------------------
# parsing
# --------------------------------------------------------------------------
def test_parse_round_trip_tracks_bodies_by_id(tmp_path):
    a, b, c = make_body(10, seed=1), make_body(4, seed=2), make_body(1, seed=3)
    # frame 10 has no body at all
    tracks = {72057594037931101: (0, a), 72057594037931555: (3, b), 5: (11, c)}
    path = write_sample(tmp_path, 'S001C001P001R001A001', 12, tracks)
    out = parse_skeleton_file(path)
    assert out['num_frames'] == 12
    assert list(out['bodies']) == [72057594037931101, 72057594037931555, 5]
    for bid, (start, joints) in tracks.items():
        body = out['bodies'][bid]
        assert body['joints'].dtype == np.float32
        assert body['joints'].shape == (len(joints), 25, 3)
        np.testing.assert_array_equal(body['frames'],
                                      np.arange(start, start + len(joints)))
        np.testing.assert_allclose(body['joints'], joints, atol=1e-6)


def test_parse_crlf_and_trailing_blank_lines(tmp_path):
    body = make_body(3)
    text = skeleton_text(3, {7: (0, body)}).replace('\n', '\r\n') + '\r\n\n'
    path = osp.join(str(tmp_path), 'S001C001P001R001A001.skeleton')
    with open(path, 'w', newline='') as f:
        f.write(text)
    out = parse_skeleton_file(path)
    np.testing.assert_allclose(out['bodies'][7]['joints'], body, atol=1e-6)


def test_parse_sample_name():
    assert parse_sample_name('S018C002P045R001A120') == dict(
        setup=18, camera=2, subject=45, replication=1, action=120)
    info = parse_sample_name('/x/y/S001C003P040R002A013.skeleton')
    assert (info['camera'], info['subject'], info['action']) == (3, 40, 13)
    for bad in ('S001C001P001R001', 'S01C001P001R001A001', 'foo',
                'S001C001P001R001A000', 'S001C004P001R001A001',
                'S001C001P001R001A121', 's001c001p001r001a001'):
        with pytest.raises(AnnotationError, match=bad):
            parse_sample_name(bad)


def _bad_file(tmp_path, text):
    path = osp.join(str(tmp_path), 'S001C001P001R001A001.skeleton')
    with open(path, 'w') as f:
        f.write(text)
    return path


def _good_lines(num_frames=2):
    return skeleton_text(num_frames, {
        9: (0, make_body(num_frames))
    }).split('\n')


@pytest.mark.parametrize(
    'mutate, line, expected',
    [
        # truncated in the middle of the joints of frame 2
        (lambda ls: ls[:40], 41, 'end of file'),
        # truncated before the body count of frame 2
        (lambda ls: ls[:29], 30, 'number of bodies'),
        # 24 joints announced
        (lambda ls: ls[:3] + ['24'] + ls[4:], 4, 'joint count = 25'),
        # a letter among the numbers of a joint line
        (lambda ls: ls[:10] + [ls[10].replace('250.1', 'abc')] + ls[11:], 11,
         'non-numeric'),
        # a joint line with 11 values
        (lambda ls: ls[:7] + [ls[7].rsplit(' ', 1)[0]] + ls[8:], 8,
         '12 numbers'),
        # non-numeric frame count
        (lambda ls: ['two'] + ls[1:], 1, 'number of frames'),
        # body-info line with a non-integer bodyID
        (lambda ls: ls[:2] + ['x' + ls[2]] + ls[3:], 3, 'bodyID'),
        # x is NaN
        (lambda ls: ls[:5] + ['nan' + ls[5][ls[5].index(' '):]] + ls[6:], 6,
         'finite'),
        # one more frame than announced
        (lambda ls: ls[:-1] + ['0'], 58, 'end of file'),
    ])
def test_malformed_file_raises_located_error(tmp_path, mutate, line, expected):
    path = _bad_file(tmp_path, '\n'.join(mutate(_good_lines())))
    with pytest.raises(AnnotationError) as err:
        parse_skeleton_file(path)
    msg = str(err.value)
    assert 'S001C001P001R001A001.skeleton' in msg
    assert f'line {line}:' in msg
    assert expected in msg


def test_duplicate_body_id_in_frame_raises(tmp_path):
    lines = _good_lines(1)  # header, count, 27 body lines
    body = lines[2:29]
    text = '\n'.join(['1', '2'] + body + body)
    with pytest.raises(AnnotationError, match=r'line 30: bodyID 9 appears'):
        parse_skeleton_file(_bad_file(tmp_path, text))


def test_convert_raises_on_malformed_file_and_bad_name(tmp_path):
    write_sample(tmp_path, 'S001C001P001R001A001')
    bad = osp.join(str(tmp_path), 'S001C001P002R001A001.skeleton')
    with open(bad, 'w') as f:
        f.write('\n'.join(_good_lines()[:40]))
    with pytest.raises(AnnotationError, match='S001C001P002R001A001.skeleton'):
        convert(tmp_path)
    os.remove(bad)
    write_sample(tmp_path, 'S001C001P001R001A001_copy')
    with pytest.raises(
            AnnotationError, match='S001C001P001R001A001_copy.skeleton'):
        convert(tmp_path)


def test_empty_or_missing_dir_is_a_clear_error(tmp_path):
    with open(osp.join(str(tmp_path), 'README.txt'), 'w') as f:
        f.write('not a skeleton')
    with pytest.raises(AnnotationError, match='no .skeleton file'):
        convert(tmp_path)
    with pytest.raises(FileNotFoundError):
        convert(osp.join(str(tmp_path), 'nope'))


# --------------------------------------------------------------------------
# splits, labels, benchmark filter
# --------------------------------------------------------------------------
def test_ntu60_splits_labels_and_filter(tmp_path):
    names = [
        'S001C001P001R001A001',  # train subject, val camera
        'S002C002P003R002A010',  # val subject, train camera
        'S017C003P038R001A060',  # train subject, train camera
        'S005C001P040R001A033',  # val subject, val camera
        'S018C002P001R001A001',  # NTU120 setup
        'S001C002P001R001A061'
    ]  # NTU120 action
    for n in names:
        write_sample(tmp_path, n)
    data, stats = convert(tmp_path, benchmark='ntu60', return_stats=True)
    kept = names[:4]
    assert [a['frame_dir'] for a in data['annotations']] == sorted(kept)
    assert stats['skipped_benchmark'] == 2
    split = data['split']
    assert set(split) == {'xsub_train', 'xsub_val', 'xview_train', 'xview_val'}
    assert set(split['xsub_train']) == {names[0], names[2]}
    assert set(split['xsub_val']) == {names[1], names[3]}
    assert set(split['xview_train']) == {names[1], names[2]}
    assert set(split['xview_val']) == {names[0], names[3]}
    labels = {a['frame_dir']: a['label'] for a in data['annotations']}
    assert labels == {names[0]: 0, names[1]: 9, names[2]: 59, names[3]: 32}


def test_ntu120_splits_and_labels(tmp_path):
    names = [
        'S001C001P001R001A001',  # train subject, odd setup
        'S018C002P045R001A061',  # train subject (120), even setup
        'S032C003P106R002A120',  # val subject, even setup
        'S019C001P044R001A050',  # val subject, odd setup
        'S002C002P103R001A002'
    ]  # train subject, even setup
    for n in names:
        write_sample(tmp_path, n)
    data = convert(tmp_path, benchmark='ntu120')
    split = data['split']
    assert set(split) == {'xsub_train', 'xsub_val', 'xset_train', 'xset_val'}
    assert set(split['xsub_train']) == {names[0], names[1], names[4]}
    assert set(split['xsub_val']) == {names[2], names[3]}
    assert set(split['xset_train']) == {names[1], names[2], names[4]}
    assert set(split['xset_val']) == {names[0], names[3]}
    labels = {a['frame_dir']: a['label'] for a in data['annotations']}
    assert labels == {
        names[0]: 0,
        names[1]: 60,
        names[2]: 119,
        names[3]: 49,
        names[4]: 1
    }


def test_split_constants():
    assert len(ntu.NTU60_XSUB_TRAIN_SUBJECTS) == 20
    assert len(ntu.NTU120_XSUB_TRAIN_SUBJECTS) == 53
    assert ntu.NTU60_XSUB_TRAIN_SUBJECTS < ntu.NTU120_XSUB_TRAIN_SUBJECTS
    assert ntu.NTU120_XSET_TRAIN_SETUPS == set(range(2, 33, 2))
    assert ntu.NTU60_XVIEW_TRAIN_CAMERAS == {2, 3}


# --------------------------------------------------------------------------
# missing / empty samples
# --------------------------------------------------------------------------
def test_missing_list_samples_are_skipped(tmp_path):
    write_sample(tmp_path, 'S001C001P001R001A001')
    write_sample(tmp_path, 'S001C001P002R001A001')
    listed = osp.join(str(tmp_path), 'missing.txt')
    with open(listed, 'w') as f:
        f.write('header line of the official list\n\n'
                'S001C001P002R001A001\n')
    data, stats = convert(tmp_path, missing_list=listed, return_stats=True)
    assert [a['frame_dir']
            for a in data['annotations']] == ['S001C001P001R001A001']
    assert stats['skipped_missing_list'] == 1
    assert 'S001C001P002R001A001' not in sum(data['split'].values(), [])


def test_shipped_missing_list_is_the_default(tmp_path):
    write_sample(tmp_path, 'S001C001P001R001A001')
    write_sample(tmp_path, 'S001C002P005R002A008')  # officially missing
    data = convert_ntu(str(tmp_path), progress=False)
    assert [a['frame_dir']
            for a in data['annotations']] == ['S001C001P001R001A001']
    data = convert(tmp_path, missing_list='none')
    assert len(data['annotations']) == 2


def test_shipped_missing_lists():
    ntu60 = load_missing_list(None, 'ntu60')
    ntu120 = load_missing_list(None, 'ntu120')
    assert len(ntu60) == 302
    assert len(ntu120) == 535
    assert ntu60 <= ntu120
    assert 'S001C002P005R002A008' in ntu60
    for bench, expected in (('ntu60', 302), ('ntu120', 535)):
        path = osp.join(ntu.MISSING_LIST_DIR, f'{bench}_missing_skeletons.txt')
        with open(path) as f:
            lines = f.read().split()
        assert len(lines) == len(set(lines)) == expected
        assert all(ntu.SAMPLE_NAME_PATTERN.match(x) for x in lines)
    with pytest.raises(AnnotationError, match='no sample name'):
        load_missing_list(__file__, 'ntu60')


def test_files_without_skeleton_are_skipped_with_warning(tmp_path):
    write_sample(tmp_path, 'S001C001P001R001A001')
    write_sample(tmp_path, 'S001C001P002R001A001', 5, tracks={})
    with open(osp.join(str(tmp_path), 'S001C001P003R001A001.skeleton'),
              'w') as f:
        f.write('0\n')
    with pytest.warns(UserWarning) as record:
        data, stats = convert(tmp_path, return_stats=True)
    messages = ' '.join(str(r.message) for r in record)
    assert 'S001C001P002R001A001.skeleton' in messages
    assert 'S001C001P003R001A001.skeleton' in messages
    assert stats['skipped_empty'] == 2
    assert stats['empty_files'] == [
        'S001C001P002R001A001', 'S001C001P003R001A001'
    ]
    assert [a['frame_dir']
            for a in data['annotations']] == ['S001C001P001R001A001']


def test_no_sample_left_is_an_error(tmp_path):
    write_sample(tmp_path, 'S018C001P001R001A001')
    with pytest.raises(AnnotationError, match='no ntu60 sample left'):
        convert(tmp_path, benchmark='ntu60')


# --------------------------------------------------------------------------
# body selection
# --------------------------------------------------------------------------
def _bodies(tracks):
    return {
        bid: dict(frames=np.arange(start, start + len(j)), joints=j)
        for bid, (start, j) in tracks.items()
    }


def test_short_noise_body_is_dropped():
    main = make_body(30, amp=0.05, seed=1)
    ghost = make_body(5, amp=0.5, center=(1., 0., 3.), seed=2)  # 5 frames
    bodies = _bodies({1: (0, main), 2: (10, ghost)})
    kp = select_bodies(bodies, 30)
    assert kp.shape == (1, 30, 25, 3)
    np.testing.assert_array_equal(kp[0], main)
    kp = select_bodies(bodies, 30, denoise=False)
    assert kp.shape == (2, 30, 25, 3)
    np.testing.assert_array_equal(kp[0, 10:15], ghost)  # more motion: first
    assert not kp[0, :10].any()


def test_length_threshold_is_eleven_frames():
    main = make_body(40, amp=0.01, seed=1)
    for length, kept in ((11, False), (12, True)):
        ghost = make_body(length, amp=0.3, center=(1., 0., 3.), seed=1)
        kp = select_bodies(_bodies({1: (0, main), 2: (0, ghost)}), 40)
        assert kp.shape[0] == (2 if kept else 1)
        np.testing.assert_array_equal(kp[-1], main)


def test_wide_spread_noise_body_is_dropped():
    main = make_body(30, amp=0.05, seed=1)
    ghost = make_body(30, amp=0.2, center=(1., 0., 3.), wide=True, seed=2)
    assert ntu.spread_noise_frames(ghost).all()
    assert not ntu.spread_noise_frames(main).any()
    bodies = _bodies({1: (0, main), 2: (0, ghost)})
    kp = select_bodies(bodies, 30)
    assert kp.shape == (1, 30, 25, 3)
    np.testing.assert_array_equal(kp[0], main)
    assert select_bodies(bodies, 30, denoise=False).shape[0] == 2


def test_three_bodies_keep_two_most_active_ordered_by_motion():
    calm = make_body(40, amp=0.01, seed=1)
    busy = make_body(40, amp=0.3, center=(-1., 0., 3.), seed=1)
    mid = make_body(35, amp=0.1, center=(1., 0., 3.), seed=1)
    motions = [ntu.body_motion(j) for j in (calm, busy, mid)]
    assert motions[1] > motions[2] > motions[0]
    bodies = _bodies({11: (0, calm), 22: (0, busy), 33: (5, mid)})
    for denoise in (True, False):
        kp = select_bodies(bodies, 40, max_bodies=2, denoise=denoise)
        assert kp.shape == (2, 40, 25, 3)
        np.testing.assert_array_equal(kp[0], busy)
        np.testing.assert_array_equal(kp[1, 5:], mid)
        assert not kp[1, :5].any()
    kp = select_bodies(bodies, 40, max_bodies=1)
    assert kp.shape == (1, 40, 25, 3)
    np.testing.assert_array_equal(kp[0], busy)
    kp = select_bodies(bodies, 40, max_bodies=3)
    np.testing.assert_array_equal(kp[2], calm)


def test_reidentified_track_shares_a_slot():
    first = make_body(20, amp=0.1, seed=1)
    second = make_body(20, amp=0.1, seed=1)
    other = make_body(40, amp=0.05, center=(1., 0., 3.), seed=1)
    bodies = _bodies({1: (0, first), 2: (20, second), 3: (0, other)})
    kp = select_bodies(bodies, 40)
    assert kp.shape == (2, 40, 25, 3)
    np.testing.assert_array_equal(kp[0, :20], first)
    np.testing.assert_array_equal(kp[0, 20:], second)
    np.testing.assert_array_equal(kp[1], other)


def test_denoise_never_empties_a_sample():
    short = make_body(6, amp=0.2, seed=1)
    longer = make_body(9, amp=0.01, seed=2)
    kp = select_bodies(_bodies({1: (0, short), 2: (0, longer)}), 10)
    assert kp.shape == (1, 10, 25, 3)
    np.testing.assert_array_equal(kp[0, :9], longer)
    # a single short body is kept as is
    kp = select_bodies(_bodies({1: (2, short)}), 10)
    np.testing.assert_array_equal(kp[0, 2:8], short)
    # two wide bodies: the longer survives the spread filter
    w1 = make_body(20, wide=True, seed=3)
    w2 = make_body(25, wide=True, seed=4)
    kp = select_bodies(_bodies({1: (0, w1), 2: (0, w2)}), 25)
    assert kp.shape[0] == 1
    np.testing.assert_array_equal(kp[0], w2)
    with pytest.raises(ValueError):
        select_bodies({}, 10)


# --------------------------------------------------------------------------
# end to end
# --------------------------------------------------------------------------
def test_output_is_valid_and_written(tmp_path):
    src = tmp_path / 'skeletons'
    src.mkdir()
    two = {
        1: (0, make_body(30, amp=0.2, seed=1)),
        2: (0, make_body(25, amp=0.1, center=(1., 0., 3.), seed=2))
    }
    write_sample(src, 'S001C001P001R001A050', 30, two)
    # frames 0-2 and 28-29 have nobody
    write_sample(src, 'S001C002P002R001A002', 30,
                 {5: (3, make_body(25, seed=3))})
    out = str(tmp_path / 'sub' / 'ntu60.pkl')
    data = convert(src, out_file=out, benchmark='ntu60')
    with open(out, 'rb') as f:
        loaded = pickle.load(f)
    assert loaded['split'] == data['split']
    validate_annotations(loaded['annotations'], num_classes=60, num_joints=25)
    annos = annos_by_name(loaded)
    a = annos['S001C001P001R001A050']
    assert set(a) == {'frame_dir', 'label', 'total_frames', 'keypoint'}
    assert a['keypoint'].dtype == np.float32
    assert a['keypoint'].shape == (2, 30, 25, 3) and a['total_frames'] == 30
    b = annos['S001C002P002R001A002']
    assert b['keypoint'].shape == (1, 30, 25, 3) and b['total_frames'] == 30
    assert not b['keypoint'][0, :3].any() and b['keypoint'][0, 3:28].all()


def test_result_is_validated_before_writing(tmp_path, monkeypatch):
    write_sample(tmp_path, 'S001C001P001R001A001')

    def broken(*args, **kwargs):
        return np.full((1, 20, 25, 3), np.nan, np.float32)

    monkeypatch.setattr(ntu, 'select_bodies', broken)
    out = tmp_path / 'out.pkl'
    with pytest.raises(AnnotationError, match='NaN'):
        convert(tmp_path, out_file=str(out))
    assert not out.exists()


def test_cli_writes_loadable_pickle(tmp_path):
    src = tmp_path / 'skeletons'
    src.mkdir()
    write_sample(src, 'S001C001P001R001A001')
    write_sample(src, 'S002C002P003R001A120')
    write_sample(src, 'S001C002P005R002A008')  # in the shipped list
    out = tmp_path / 'out.pkl'
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        [REPO_ROOT] + [p for p in [env.get('PYTHONPATH')] if p])
    proc = subprocess.run([
        sys.executable, CLI,
        str(src),
        str(out), '--benchmark', 'ntu120', '--max-bodies', '1'
    ],
                          env=env,
                          capture_output=True,
                          text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert 'xset_train: 1' in proc.stdout
    assert '1 in the missing list' in proc.stdout
    with open(out, 'rb') as f:
        data = pickle.load(f)
    assert [a['frame_dir'] for a in data['annotations']
            ] == ['S001C001P001R001A001', 'S002C002P003R001A120']
    assert data['annotations'][1]['label'] == 119


def test_cli_errors_name_the_input(tmp_path):
    """main() raises what ``run_cli`` prints as ``error: ...`` (exit status 2;
    tests/test_tools/test_cli_errors.py runs the tool so)."""
    spec = importlib.util.spec_from_file_location('ntu_cli', CLI)
    cli = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cli)
    with pytest.raises(FileNotFoundError, match='nope: no such folder'):
        cli.main([
            str(tmp_path / 'nope'),
            str(tmp_path / 'x.pkl'), '--benchmark', 'ntu60'
        ])
    write_sample(tmp_path, 'S001C001P001R001A001')
    with pytest.raises(FileNotFoundError, match='list.txt: no such missing'):
        cli.main([
            str(tmp_path),
            str(tmp_path / 'x.pkl'), '--benchmark', 'ntu60', '--missing-list',
            str(tmp_path / 'list.txt')
        ])
    with open(tmp_path / 'list.txt', 'w') as f:
        f.write('S001C001P001R001A001.skeleton\n')
    with pytest.raises(AnnotationError, match='no ntu60 sample left'):
        cli.main([
            str(tmp_path),
            str(tmp_path / 'x.pkl'), '--benchmark', 'ntu60', '--missing-list',
            str(tmp_path / 'list.txt')
        ])
    assert not (tmp_path / 'x.pkl').exists()
