from collections import Counter

import numpy as np
import pytest
from mmaction.registry import DATASETS

import mmcsre  # noqa: F401
from mmcsre.datasets import SyntheticSkeletonDataset, validate_annotations
from mmcsre.datasets.synthetic import (CLASSES, forward_kinematics,
                                       generate_annotations, generate_dataset,
                                       generate_sample)
from mmcsre.structures import NTU_RGBD


def bone_lengths(kp):
    """(..., V) bone lengths on the NTU layout."""
    return np.linalg.norm(kp - kp[..., NTU_RGBD.parents, :], axis=-1)


def test_classes():
    assert len(CLASSES) == 10
    assert len(set(CLASSES)) == 10
    assert all(isinstance(c, str) and c for c in CLASSES)


def test_same_seed_gives_same_arrays():
    a = generate_annotations(num_classes=3, samples_per_class=2, seed=7)
    b = generate_annotations(num_classes=3, samples_per_class=2, seed=7)
    assert len(a) == len(b) == 6
    for x, y in zip(a, b):
        assert x['frame_dir'] == y['frame_dir']
        assert x['label'] == y['label']
        assert x['total_frames'] == y['total_frames']
        np.testing.assert_array_equal(x['keypoint'], y['keypoint'])


def test_different_seeds_differ():
    a = generate_annotations(num_classes=2, samples_per_class=2, seed=0)
    b = generate_annotations(num_classes=2, samples_per_class=2, seed=1)
    for x, y in zip(a, b):
        assert x['frame_dir'] != y['frame_dir']
        assert (x['keypoint'].shape != y['keypoint'].shape
                or not np.allclose(x['keypoint'], y['keypoint']))


def test_generate_sample_uses_only_the_given_rng():
    a = generate_sample(3, np.random.default_rng(11))
    np.random.seed(0)  # the global generator plays no part
    b = generate_sample(3, np.random.default_rng(11))
    np.testing.assert_array_equal(a, b)


def test_shapes_and_dtypes():
    annos = generate_annotations(num_classes=10, samples_per_class=1, seed=3)
    for a in annos:
        kp = a['keypoint']
        assert kp.dtype == np.float32
        assert kp.ndim == 4 and kp.shape[0] == 1
        assert kp.shape[2:] == (25, 3)
        assert 40 <= kp.shape[1] <= 100
        assert a['total_frames'] == kp.shape[1]
        assert np.isfinite(kp).all()
    validate_annotations(annos, num_classes=10, num_joints=25)


def test_frame_count_bounds():
    rng = np.random.default_rng(0)
    lengths = {
        generate_sample(0, rng, min_frames=5, max_frames=7).shape[1]
        for _ in range(40)
    }
    assert lengths == {5, 6, 7}


def test_dataset_splits_are_disjoint_and_balanced():
    data = generate_dataset(
        num_classes=4, train_per_class=3, val_per_class=2, seed=1)
    train, val = data['split']['train'], data['split']['val']
    assert len(train) == 12 and len(val) == 8
    assert not set(train) & set(val)
    assert len(data['annotations']) == 20
    ids = [a['frame_dir'] for a in data['annotations']]
    assert len(set(ids)) == 20 and set(ids) == set(train) | set(val)
    by_id = {a['frame_dir']: a for a in data['annotations']}
    assert Counter(by_id[i]['label'] for i in train) == {
        c: 3
        for c in range(4)
    }
    assert Counter(by_id[i]['label'] for i in val) == {c: 2 for c in range(4)}
    # no sample repeats across the splits
    train_kp = [by_id[i]['keypoint'] for i in train]
    for i in val:
        v = by_id[i]['keypoint']
        assert not any(t.shape == v.shape and np.allclose(t, v)
                       for t in train_kp)


def test_dataset_deterministic_for_seed():
    a = generate_dataset(
        num_classes=2, train_per_class=1, val_per_class=1, seed=5)
    b = generate_dataset(
        num_classes=2, train_per_class=1, val_per_class=1, seed=5)
    assert a['split'] == b['split']
    for x, y in zip(a['annotations'], b['annotations']):
        np.testing.assert_array_equal(x['keypoint'], y['keypoint'])


@pytest.mark.parametrize('num_classes', [0, 11])
def test_bad_num_classes(num_classes):
    with pytest.raises(ValueError, match='num_classes'):
        generate_annotations(num_classes=num_classes, samples_per_class=1)


def test_forward_kinematics_is_rigid():
    rng = np.random.default_rng(0)
    T = 30
    angles = {
        j: [(axis, rng.uniform(-2, 2, size=T)) for axis in 'xyz']
        for j in (0, 1, 4, 5, 8, 9, 12, 13, 16, 17, 7, 20)
    }
    pose = forward_kinematics(
        angles, lift=rng.uniform(-0.3, 0.3, T), scale=1.1)
    assert pose.shape == (T, 25, 3)
    lengths = bone_lengths(pose)
    np.testing.assert_allclose(
        lengths, np.broadcast_to(lengths[0], lengths.shape), atol=1e-9)
    assert (np.ptp(pose, axis=0) > 1e-2).any()  # and it does move


def test_generated_bone_lengths_constant_within_noise():
    annos = generate_annotations(num_classes=10, samples_per_class=1, seed=2)
    for a in annos:
        lengths = bone_lengths(a['keypoint'][0].astype(np.float64))
        # sensor noise has sigma <= 0.02 m per coordinate, so a bone's
        # length varies by about sqrt(2) * 0.02 at most
        assert lengths.std(axis=0).max() < 0.05, a['frame_dir']
        # while the joints themselves move much more than that
        motion = np.ptp(a['keypoint'][0], axis=0).max()
        assert motion > 0.1, a['frame_dir']


def test_classes_move_differently():
    """Mean joint speed per joint differs between classes: the label is in the
    movement."""
    rng = np.random.default_rng(0)
    profiles = []
    for label in range(len(CLASSES)):
        kp = generate_sample(label, rng)[0]
        speed = np.linalg.norm(np.diff(kp, axis=0), axis=-1).mean(0)
        profiles.append(speed / speed.sum())
    profiles = np.stack(profiles)
    dist = np.abs(profiles[:, None] - profiles[None]).sum(-1)
    off_diag = dist[~np.eye(len(CLASSES), dtype=bool)]
    assert off_diag.min() > 0.02


def test_dataset_builds_from_registry():
    ds = DATASETS.build(
        dict(type='SyntheticSkeletonDataset', split='val', pipeline=[]))
    assert isinstance(ds, SyntheticSkeletonDataset)
    assert len(ds) == 10 * 20
    assert ds.metainfo['classes'] == CLASSES
    labels = [ds.get_data_info(i)['label'] for i in range(len(ds))]
    assert Counter(labels) == {c: 20 for c in range(10)}
    info = ds[0]
    assert info['keypoint'].shape[2:] == (25, 3)
    assert info['frame_dir'].startswith('val_')
    assert ds.layout is NTU_RGBD


def test_dataset_options():
    kwargs = dict(
        type='SyntheticSkeletonDataset',
        pipeline=[],
        num_classes=3,
        train_per_class=2,
        val_per_class=1,
        seed=4)
    train = DATASETS.build(dict(kwargs, split='train'))
    val = DATASETS.build(dict(kwargs, split='val'))
    assert len(train) == 6 and len(val) == 3
    assert train.metainfo['classes'] == CLASSES[:3]
    train_ids = {train.get_data_info(i)['frame_dir'] for i in range(6)}
    val_ids = {val.get_data_info(i)['frame_dir'] for i in range(3)}
    assert not train_ids & val_ids
    again = DATASETS.build(dict(kwargs, split='val'))
    for i in range(3):
        np.testing.assert_array_equal(
            val.get_data_info(i)['keypoint'],
            again.get_data_info(i)['keypoint'])
