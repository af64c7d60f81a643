import os.path as osp
import pickle

import numpy as np
import pytest

from mmcsre.datasets import (AnnotationError, load_skeleton_pickle,
                             select_split, split_positions,
                             validate_annotation, validate_annotations)

SOURCE = '/data/skeleton/ntu60_3d.pkl'
REMOVE = object()


def anno(frame_dir='S001C001P001R001A001',
         label=1,
         num_frames=5,
         num_joints=25,
         **extra):
    kp = np.random.default_rng(0).normal(size=(1, num_frames, num_joints,
                                               3)).astype(np.float32)
    out = dict(
        frame_dir=frame_dir, label=label, total_frames=num_frames, keypoint=kp)
    out.update(extra)
    return out


def bad_second(**changes):
    """A good sample #0 and sample #1 'bad' with ``changes`` applied (a value
    of REMOVE removes the key)."""
    bad = anno('bad')
    for key, value in changes.items():
        if value is REMOVE:
            bad.pop(key)
        else:
            bad[key] = value
    return [anno('good'), bad]


def check_error(annos,
                problem,
                num_classes=5,
                num_joints=None,
                frame_dir='bad'):
    with pytest.raises(AnnotationError) as info:
        validate_annotations(
            annos,
            source=SOURCE,
            num_classes=num_classes,
            num_joints=num_joints)
    msg = str(info.value)
    assert SOURCE in msg
    assert 'sample #1' in msg
    if frame_dir is not None:
        assert f'frame_dir={frame_dir!r}' in msg
    assert problem in msg, msg
    return msg


def kp_with(value, where=(0, 2, 3, 1)):
    kp = anno()['keypoint']
    kp[where] = value
    return kp


def test_good_annotations_pass():
    annos = [
        anno('a', label=0),
        anno('b', label=4, num_frames=1),
        anno('c', label=np.int64(2)),
        anno('d', label=np.array([3])),
        anno('e', keypoint_score=np.ones((1, 5, 25), np.float16))
    ]
    annos[0]['keypoint'] = annos[0]['keypoint'].astype(np.float16)
    del annos[1]['total_frames']  # optional
    validate_annotations(annos, source=SOURCE, num_classes=5, num_joints=25)


def test_error_is_a_value_error():
    assert issubclass(AnnotationError, ValueError)


@pytest.mark.parametrize('key', ['frame_dir', 'label', 'keypoint'])
def test_missing_key(key):
    msg = check_error(
        bad_second(**{key: REMOVE}),
        f"missing key(s) ['{key}']",
        frame_dir=None if key == 'frame_dir' else 'bad')
    assert 'keys present' in msg


def test_keypoint_not_an_array():
    check_error(
        bad_second(keypoint=[[[[0., 1., 2.]]]]),
        "'keypoint' must be a numpy array, got list")


@pytest.mark.parametrize('shape', [(5, 25, 3), (1, 1, 5, 25, 3), (75, )])
def test_keypoint_wrong_ndim(shape):
    check_error(
        bad_second(keypoint=np.zeros(shape, np.float32)),
        f"'keypoint' must have shape (M, T, V, C), got {shape}")


def test_zero_frames():
    check_error(
        bad_second(
            keypoint=np.zeros((1, 0, 25, 3), np.float32), total_frames=0),
        '0 frames')


def test_zero_persons():
    check_error(
        bad_second(keypoint=np.zeros((0, 5, 25, 3), np.float32)), 'no person')


def test_one_coordinate():
    check_error(
        bad_second(keypoint=np.zeros((1, 5, 25, 1), np.float32)), 'C >= 2')


def test_integer_keypoint():
    check_error(
        bad_second(keypoint=np.zeros((1, 5, 25, 3), np.int64)),
        'floating point')


@pytest.mark.parametrize('value', [np.nan, np.inf, -np.inf])
def test_non_finite_keypoint(value):
    check_error(
        bad_second(keypoint=kp_with(value)),
        "'keypoint' holds NaN/inf (first at (m, t, v, c)="
        '[0, 2, 3, 1])')


@pytest.mark.parametrize('label, shown', [(-1, '-1'), (5, '5'), (9, '9')])
def test_label_out_of_range(label, shown):
    check_error(
        bad_second(label=label), f"'label'={shown} out of range [0, 4]")


def test_negative_label_without_num_classes():
    check_error(
        bad_second(label=-2),
        "'label'=-2 out of range [0, inf]",
        num_classes=None)


def test_large_label_without_num_classes_is_fine():
    validate_annotations(bad_second(label=1000), source=SOURCE)


@pytest.mark.parametrize('label',
                         [1.5, 2.0, '1', True, None,
                          np.array([1, 2])])
def test_non_integer_label(label):
    check_error(bad_second(label=label), "'label' must be an integer")


def test_total_frames_mismatch():
    check_error(
        bad_second(total_frames=7),
        "'total_frames'=7 but 'keypoint' has 5 frames")


@pytest.mark.parametrize(
    'score',
    [np.ones((1, 5, 24)),
     np.ones((1, 5)),
     np.ones((1, 5, 25, 1)), [1.0]])
def test_keypoint_score_wrong_shape(score):
    check_error(
        bad_second(keypoint_score=score),
        "'keypoint_score' must have shape (1, 5, 25)")


def test_keypoint_score_not_finite():
    score = np.ones((1, 5, 25))
    score[0, 1, 2] = np.nan
    check_error(
        bad_second(keypoint_score=score), "'keypoint_score' holds NaN/inf")


def test_joint_count_mismatch():
    with pytest.raises(AnnotationError) as info:
        validate_annotations([anno('a'), anno('b', num_joints=17)],
                             source=SOURCE,
                             num_joints=25)
    msg = str(info.value)
    assert SOURCE in msg and 'sample #1' in msg and "frame_dir='b'" in msg
    assert "'keypoint' has 17 joints, the layout expects 25" in msg


def test_duplicated_frame_dir():
    annos = [anno('a'), anno('b'), anno('a')]
    with pytest.raises(AnnotationError) as info:
        validate_annotations(annos, source=SOURCE)
    msg = str(info.value)
    assert SOURCE in msg and 'sample #2' in msg and "frame_dir='a'" in msg
    assert 'duplicated frame_dir, first seen at sample #0' in msg


def test_split_errors_give_the_index_in_the_file():
    annos = [anno('a'), anno('b', label=9), anno('a')]
    with pytest.raises(AnnotationError) as info:
        validate_annotations(annos, SOURCE, num_classes=5, positions=[4, 7, 9])
    assert "sample #1 (index 7 in the file), frame_dir='b'" in str(info.value)
    with pytest.raises(AnnotationError) as info:
        validate_annotations(annos[::2], SOURCE, positions=[4, 9])
    assert ("sample #1 (index 9 in the file), frame_dir='a': duplicated "
            'frame_dir, first seen at sample #0 (index 4 in the file)') in str(
                info.value)
    # positions equal to the indices are not repeated
    with pytest.raises(AnnotationError) as info:
        validate_annotations(annos[::2], SOURCE, positions=[0, 1])
    assert 'first seen at sample #0' in str(info.value)
    assert 'in the file' not in str(info.value)
    with pytest.raises(ValueError, match='1 positions for 3 annotations'):
        validate_annotations(annos, SOURCE, positions=[0])


def test_sample_not_a_dict():
    with pytest.raises(
            AnnotationError, match=r'sample #1: expected a dict, got list'):
        validate_annotations([anno('a'), [1, 2]], source=SOURCE)


def test_annotations_not_a_list():
    with pytest.raises(
            AnnotationError,
            match=r"'annotations' must be a "
            r'list of dicts, got dict'):
        validate_annotations({'a': anno()}, source=SOURCE)


def test_no_annotations():
    with pytest.raises(AnnotationError, match=f'{SOURCE}: no annotations'):
        validate_annotations([], source=SOURCE)


def test_validate_annotation_without_index():
    with pytest.raises(AnnotationError) as info:
        validate_annotation(anno('x', label=-1), source='f.pkl')
    assert str(info.value).startswith("f.pkl, frame_dir='x': ")


# --------------------------------------------------------------------------
# splits
# --------------------------------------------------------------------------
def pyskl_dict():
    annos = [anno(f'v{i}', label=i % 3) for i in range(5)]
    return dict(
        split=dict(xsub_train=['v3', 'v0', 'v1'], xsub_val=['v4', 'v2']),
        annotations=annos)


def test_select_split_keeps_file_order():
    data = pyskl_dict()
    train = select_split(data, 'xsub_train', SOURCE)
    assert [a['frame_dir'] for a in train] == ['v0', 'v1', 'v3']
    assert train[0] is data['annotations'][0]
    val = select_split(data, 'xsub_val', SOURCE)
    assert [a['frame_dir'] for a in val] == ['v2', 'v4']


def test_split_positions_match_select_split():
    data = pyskl_dict()
    assert split_positions(data, 'xsub_train', SOURCE) == [0, 1, 3]
    assert split_positions(data, 'xsub_val', SOURCE) == [2, 4]
    assert [a['frame_dir']
            for a in select_split(data, 'xsub_val', SOURCE)] == ['v2', 'v4']
    with pytest.raises(AnnotationError, match="'split' must be a dict"):
        split_positions(dict(data, split=['v0']), 'xsub_val', SOURCE)


def test_select_split_by_filename():
    annos = [dict(filename=f'f{i}.mp4', label=0) for i in range(3)]
    data = dict(split=dict(test=['f2.mp4']), annotations=annos)
    assert select_split(data, 'test', SOURCE) == [annos[2]]


def test_unknown_split_lists_available_splits():
    with pytest.raises(AnnotationError) as info:
        select_split(pyskl_dict(), 'xview_train', SOURCE)
    msg = str(info.value)
    assert SOURCE in msg
    assert "unknown split 'xview_train'" in msg
    assert "['xsub_train', 'xsub_val']" in msg


def test_split_lists_ids_without_annotation():
    data = pyskl_dict()
    data['split']['xsub_val'].append('ghost')
    with pytest.raises(AnnotationError) as info:
        select_split(data, 'xsub_val', SOURCE)
    msg = str(info.value)
    assert SOURCE in msg and "split 'xsub_val'" in msg
    assert "1 id(s) with no annotation, e.g. ['ghost']" in msg


def test_split_requested_but_file_has_none():
    with pytest.raises(
            AnnotationError,
            match=r"split 'train' asked for "
            r"but the file has no 'split'"):
        select_split(dict(annotations=[anno()]), 'train', SOURCE)


# --------------------------------------------------------------------------
# reading the pickle
# --------------------------------------------------------------------------
def write(path, payload):
    with open(path, 'wb') as f:
        f.write(payload)
    return str(path)


def test_load_good_pickle(tmp_path):
    data = pyskl_dict()
    path = write(tmp_path / 'good.pkl', pickle.dumps(data))
    loaded = load_skeleton_pickle(path)
    assert loaded['split'] == data['split']
    assert len(loaded['annotations']) == 5
    np.testing.assert_array_equal(loaded['annotations'][2]['keypoint'],
                                  data['annotations'][2]['keypoint'])


def test_load_bare_list_is_wrapped(tmp_path):
    path = write(tmp_path / 'list.pkl', pickle.dumps([anno()]))
    loaded = load_skeleton_pickle(path)
    assert list(loaded) == ['annotations']
    assert loaded['annotations'][0]['frame_dir'] == 'S001C001P001R001A001'


def test_missing_file(tmp_path):
    path = str(tmp_path / 'nope.pkl')
    with pytest.raises(FileNotFoundError, match='nope.pkl'):
        load_skeleton_pickle(path)


def test_random_bytes_are_not_a_pickle(tmp_path):
    # garbage makes pickle raise UnpicklingError, ValueError, EOFError,
    # OverflowError, MemoryError, ... depending on the bytes: every one must
    # come out as an AnnotationError naming the file
    for seed in range(300):
        payload = np.random.default_rng(seed).bytes(64)
        path = write(tmp_path / f'noise{seed}.pkl', payload)
        with pytest.raises(AnnotationError) as info:
            load_skeleton_pickle(path)
        assert str(info.value).startswith(path + ': '), seed


@pytest.mark.parametrize(
    'payload',
    [b'this is not a pickle at all', b'\xffgarbage', b'\x80\x04\x95garbage'])
def test_invalid_load_key_message(tmp_path, payload):
    path = write(tmp_path / 'text.pkl', payload)
    with pytest.raises(AnnotationError) as info:
        load_skeleton_pickle(path)
    msg = str(info.value)
    assert msg.startswith(f'{path}: not a readable pickle (')
    assert msg.endswith(')') and len(msg) > len(path) + 30  # with a reason


@pytest.mark.parametrize('keep', [0.5, 0.9, 1])
def test_truncated_pickle(tmp_path, keep):
    payload = pickle.dumps(pyskl_dict(), protocol=4)
    cut = int(len(payload) * keep) - (1 if keep == 1 else 0)
    path = write(tmp_path / 'cut.pkl', payload[:cut])
    with pytest.raises(AnnotationError, match='not a readable pickle'):
        load_skeleton_pickle(path)


def test_empty_file(tmp_path):
    path = write(tmp_path / 'empty.pkl', b'')
    with pytest.raises(AnnotationError, match=r'EOFError'):
        load_skeleton_pickle(path)


@pytest.mark.parametrize('obj, name', [(42, 'int'), ('annotations', 'str'),
                                       ((1, 2), 'tuple'),
                                       (np.zeros(3), 'ndarray')])
def test_wrong_top_level_type(tmp_path, obj, name):
    path = write(tmp_path / 'odd.pkl', pickle.dumps(obj))
    with pytest.raises(AnnotationError) as info:
        load_skeleton_pickle(path)
    msg = str(info.value)
    assert path in msg
    assert 'expected a dict with keys' in msg and f'got {name}' in msg


def test_dict_without_annotations(tmp_path):
    path = write(tmp_path / 'nokey.pkl', pickle.dumps(dict(split={})))
    with pytest.raises(AnnotationError) as info:
        load_skeleton_pickle(path)
    assert "missing top-level key(s) ['annotations']" in str(info.value)
    assert osp.basename(path) in str(info.value)


def test_non_integer_total_frames_and_non_list_annotations():
    import numpy as np

    from mmcsre.datasets.validation import (AnnotationError, select_split,
                                            validate_annotation)
    anno = dict(
        frame_dir='x',
        label=0,
        total_frames=None,
        keypoint=np.zeros((1, 2, 3, 3), np.float32))
    with pytest.raises(AnnotationError, match="'total_frames' must be an "):
        validate_annotation(anno, 0, 'f.pkl')
    with pytest.raises(AnnotationError, match="'annotations' must be a list"):
        select_split(
            dict(split=dict(a=['x']), annotations='oops'), 'a', 'f.pkl')
