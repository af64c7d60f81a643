"""Kinetics-skeleton converter on small hand-written st-gcn style files."""
import importlib.util
import json
import pickle

import numpy as np
import pytest
from helpers import REPO_ROOT
from mmengine.registry import init_default_scope

from mmcsre.datasets import AnnotationError, SkeletonDataset
from mmcsre.datasets.converters.kinetics import (NUM_JOINTS, convert_kinetics,
                                                 read_sample)


def load_cli():
    """The CLI module, run in-process (a fresh interpreter is slow here)."""
    spec = importlib.util.spec_from_file_location(
        'kinetics_to_pkl',
        f'{REPO_ROOT}/tools/data/kinetics/kinetics_to_pkl.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def person(value, score):
    """A person whose 18 joints sit at (value, value + 0.5) with ``score``."""
    pose = [value, value + 0.5] * NUM_JOINTS
    return dict(pose=pose, score=[score] * NUM_JOINTS)


def sample(frames, label_index=0):
    """Sample JSON; ``frames`` is ``{frame_index: [person, ...]}``."""
    data = [dict(frame_index=i, skeleton=p) for i, p in frames.items()]
    return dict(
        data=data, label=f'class{label_index}', label_index=label_index)


def write_release(root, train, val=None, labels=None):
    """Write a kinetics-skeleton folder; ``train``/``val``: ``{id: json}``."""
    for split, samples in (('train', train), ('val', val or {})):
        folder = root / f'kinetics_{split}'
        folder.mkdir(parents=True, exist_ok=True)
        label_file = {}
        for sample_id, content in samples.items():
            text = content if isinstance(content, str) else json.dumps(content)
            (folder / f'{sample_id}.json').write_text(text)
            info = {} if isinstance(content, str) else content
            label_file[sample_id] = dict(
                has_skeleton=info.get('data') != [],
                label=info.get('label', 'class0'),
                label_index=info.get('label_index', 0))
        label_file.update((labels or {}).get(split, {}))
        (root /
         f'kinetics_{split}_label.json').write_text(json.dumps(label_file))
    return root


def test_persons_ranked_per_frame_by_summed_score():
    frames = {
        # persons listed with scores 0.2, 0.9, 0.5: kept 0.9 then 0.5
        0: [person(1, 0.2), person(2, 0.9),
            person(3, 0.5)],
        # the order changes in the next frame: slots follow the score
        1: [person(3, 0.6), person(2, 0.1)],
        # only the first 5 listed persons are looked at (ST-GCN)
        2: [person(v, 0.1) for v in range(1, 6)] + [person(9, 1.0)],
    }
    out = read_sample('x.json', json.dumps(sample(frames)).encode())
    kp, score = out['keypoint'], out['keypoint_score']
    assert kp.shape == (2, 3, NUM_JOINTS, 2) and kp.dtype == np.float32
    assert score.shape == (2, 3, NUM_JOINTS) and score.dtype == np.float32
    np.testing.assert_allclose(kp[:, 0, 0], [[2, 2.5], [3, 3.5]])
    np.testing.assert_allclose(score[:, 0, 0], [0.9, 0.5])
    np.testing.assert_allclose(kp[:, 1, 0, 0], [3, 2])
    # ties keep the listed order; the 6th person (score 1.0) is ignored
    np.testing.assert_allclose(kp[:, 2, 0, 0], [1, 2])
    assert read_sample(
        'x.json', json.dumps(sample(frames)).encode(),
        max_persons=3)['keypoint'].shape[0] == 3


def test_frames_placed_by_frame_index_and_unscored_joints_zeroed():
    one = person(0.3, 0.8)
    one['score'][4] = 0.  # OpenPose missed joint 4
    frames = {5: [person(0.7, 0.5)], 0: [one], 2: []}  # listed out of order
    out = read_sample('x.json', json.dumps(sample(frames)).encode())
    kp = out['keypoint']
    assert out['total_frames'] == 6 and kp.shape == (1, 6, NUM_JOINTS, 2)
    present = np.abs(kp[0]).sum((1, 2)) > 0
    assert present.tolist() == [True, False, False, False, False, True]
    np.testing.assert_allclose(kp[0, 5, 0], [0.7, 1.2])
    np.testing.assert_array_equal(kp[0, 0, 4], [0, 0])
    assert np.abs(kp[0, 0, 3]).sum() > 0


def test_labels_splits_skips_and_classes(tmp_path):
    root = write_release(
        tmp_path,
        train={
            'b_vid': sample({0: [person(1, 1)]}, label_index=7),
            'a_vid': sample({
                0: [person(1, 1)],
                1: [person(2, 1)]
            }, 3),
            'empty': sample({
                0: [],
                1: []
            }, 3),  # no person anywhere
            'noskel': dict(data=[], label='class5', label_index=5),
        },
        val={'c_vid': sample({0: [person(1, 1), person(2, 1)]}, 399)})
    data, stats = convert_kinetics(
        str(root), progress=False, return_stats=True)
    assert data['split'] == dict(train=['a_vid', 'b_vid'], val=['c_vid'])
    labels = {a['frame_dir']: a['label'] for a in data['annotations']}
    assert labels == dict(a_vid=3, b_vid=7, c_vid=399)
    assert len(data['classes']) == 400
    assert data['classes'][7] == 'class7' and data['classes'][5] == 'class5'
    assert data['classes'][0] is None
    assert stats == dict(
        train=2,
        train_skipped_no_skeleton=1,
        train_skipped_empty=1,
        val=1,
        val_skipped_no_skeleton=0,
        val_skipped_empty=0)
    anno = data['annotations'][0]
    assert anno['img_shape'] == (1, 1)
    assert anno['original_shape'] == (256, 340)
    only_val = convert_kinetics(str(root), splits=['val'], progress=False)
    assert only_val['split'] == dict(val=['c_vid'])


def _release_with(tmp_path, content, labels=None):
    return write_release(
        tmp_path, train={'vid': content}, labels=dict(train=labels or {}))


@pytest.mark.parametrize('content,labels,message', [
    ('{"data": [', None, 'vid.json: malformed JSON'),
    ({
        'frames': []
    }, None, "vid.json: expected a dict with a 'data' list"),
    (sample({0: [dict(pose=[0.1] * 10, score=[1] * 18)]
             }), None, "vid.json: frame 0: 'pose' must hold 36"),
    (sample({0: [dict(pose=[0.1] * 36)]}), None, "cannot read 'pose'/'score'"),
    (sample({-1: [person(1, 1)]}), None, 'negative frame_index'),
    (sample({0: [person(1, 1)]},
            label_index=4), dict(vid=dict(has_skeleton=True, label_index=0)),
     'vid.json: label_index 4 disagrees with 0'),
    (sample({0: [person(1, 1)]
             }), dict(vid=dict(has_skeleton=True, label_index=400)),
     'kinetics_train_label.json: entry .vid.: label_index 400 out of range'),
    (sample({0: [person(1, 1)]
             }), dict(other=dict(has_skeleton=True, label_index=0)),
     'other.json is missing'),
])
def test_errors_name_the_file(tmp_path, content, labels, message):
    root = _release_with(tmp_path, content, labels)
    with pytest.raises((AnnotationError, FileNotFoundError), match=message):
        convert_kinetics(str(root), progress=False)


def test_cli_names_the_missing_file(tmp_path):
    cli = load_cli()
    with pytest.raises(
            FileNotFoundError,
            match='kinetics_train_label.json: no such label file'):
        cli.main([str(tmp_path), str(tmp_path / 'x.pkl')])
    with pytest.raises(FileNotFoundError, match='absent: no such folder$'):
        cli.main([str(tmp_path / 'absent'), str(tmp_path / 'x.pkl')])


def test_missing_label_file_and_unlabelled_sample(tmp_path):
    root = _release_with(tmp_path, sample({0: [person(1, 1)]}))
    (root / 'kinetics_val_label.json').unlink()
    with pytest.raises(FileNotFoundError, match='kinetics_val_label.json'):
        convert_kinetics(str(root), progress=False)
    (root / 'kinetics_train_label.json').write_text('{}')
    with pytest.raises(AnnotationError, match='vid.json: no entry in'):
        convert_kinetics(str(root), splits=['train'], progress=False)


def test_cli_pickle_loads_in_skeleton_dataset(tmp_path, capsys):
    root = write_release(
        tmp_path / 'ks',
        train={
            'a': sample({i: [person(0.1 * i, 0.9)]
                         for i in range(4)}, 1),
            'b':
            sample({0: [person(0.2, 0.9), person(0.4, 0.3)]}, 2)
        },
        val={'c': sample({0: [person(0.5, 0.7)]}, 3)})
    out = tmp_path / 'k400.pkl'
    load_cli().main([str(root), str(out), '--no-progress'])
    log = capsys.readouterr().out
    assert 'train: 2 kept' in log and 'val: 1 kept' in log
    with open(out, 'rb') as f:
        assert sorted(pickle.load(f)['split']) == ['train', 'val']
    init_default_scope('mmaction')
    layout, clip_len = 'openpose', 300
    pipeline = [
        dict(type='SkeletonPreNormalize', layout=layout),
        dict(type='SkeletonStreamFeature', layout=layout, feats='j'),
        dict(type='PadByRepetition', clip_len=clip_len),
        dict(type='UniformSampleFrames', clip_len=clip_len, test_mode=True),
        dict(type='PoseDecode'),
        dict(type='FormatGCNInput', num_person=2),
        dict(type='PackActionInputs')
    ]
    dataset = SkeletonDataset(
        str(out),
        pipeline,
        split='train',
        num_classes=400,
        layout=layout,
        test_mode=True)
    assert len(dataset) == 2
    info = dataset.get_data_info(1)
    assert info['keypoint_score'].shape == (2, 1, NUM_JOINTS)
    item = dataset[1]
    inputs = item['inputs']
    # (clips, M, T, V, x y score): the score became the third channel
    assert tuple(inputs.shape) == (1, 2, clip_len, NUM_JOINTS, 3)
    np.testing.assert_allclose(inputs[0, :, 0, 0, 2].numpy(), [0.9, 0.3])
    assert int(item['data_samples'].gt_labels.item) == 2
