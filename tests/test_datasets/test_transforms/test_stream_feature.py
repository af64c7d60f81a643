import numpy as np
import pytest
from mmaction.datasets.transforms import GenSkeFeat
from mmaction.registry import TRANSFORMS

from mmcsre.datasets.transforms import (STREAMS, SkeletonStreamFeature,
                                        joint_to_bone, to_motion)
from mmcsre.structures import get_layout

CUSTOM = dict(num_node=4, inward=[(0, 1), (2, 1), (3, 2)], center=1)


def make_kp(num_node, channels=3, num_person=2, num_frames=6, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(num_person, num_frames, num_node,
                            channels)).astype(np.float32)


def make_score(kp, seed=1):
    rng = np.random.default_rng(seed)
    return rng.uniform(0.1, 1.0, size=kp.shape[:3]).astype(np.float32)


def parent_of(layout):
    parents = {c: p for c, p in layout.inward}
    return [parents.get(v, layout.center) for v in range(layout.num_node)]


@pytest.mark.parametrize('feats', [['j'], ['b'], ['jm'], ['bm'],
                                   ['j', 'b', 'jm', 'bm'], ['bm', 'j']])
def test_ntu_3d_matches_mmaction_genskefeat(feats):
    kp = make_kp(25)
    ref = GenSkeFeat(
        dataset='nturgb+d', feats=feats)(dict(keypoint=kp.copy()))['keypoint']
    ours = SkeletonStreamFeature(
        layout='nturgb+d', feats=feats)(dict(keypoint=kp.copy()))['keypoint']
    assert ours.shape == ref.shape == (2, 6, 25, 3 * len(feats))
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours, ref, atol=1e-6)


def test_coco_2d_joint_stream_appends_score():
    kp = make_kp(17, channels=2)
    score = make_score(kp)
    results = dict(keypoint=kp.copy(), keypoint_score=score.copy())
    out = SkeletonStreamFeature(layout='coco', feats='j')(results)
    assert 'keypoint_score' not in out
    assert out['keypoint'].shape == (2, 6, 17, 3)
    np.testing.assert_array_equal(out['keypoint'][..., :2], kp)
    np.testing.assert_array_equal(out['keypoint'][..., 2], score)
    # the same as mmaction2's GenSkeFeat for the joint stream
    ref = GenSkeFeat(
        dataset='coco',
        feats=['j'])(dict(keypoint=kp.copy(),
                          keypoint_score=score.copy()))['keypoint']
    np.testing.assert_allclose(out['keypoint'], ref)


def test_coco_2d_bone_score_is_mean_of_its_joints():
    layout = get_layout('coco')
    kp = make_kp(17, channels=2)
    score = make_score(kp)
    out = SkeletonStreamFeature(
        layout='coco',
        feats='b')(dict(keypoint=kp.copy(),
                        keypoint_score=score.copy()))['keypoint']
    assert out.shape == (2, 6, 17, 3)
    parents = parent_of(layout)
    for v, p in enumerate(parents):
        np.testing.assert_allclose(
            out[..., v, :2], kp[..., v, :] - kp[..., p, :], atol=1e-6)
        np.testing.assert_allclose(
            out[..., v, 2], (score[..., v] + score[..., p]) / 2, atol=1e-6)
    np.testing.assert_array_equal(out[..., layout.center, :2], 0)


def test_coco_2d_motion_score_is_mean_of_two_frames():
    kp = make_kp(17, channels=2)
    score = make_score(kp)
    out = SkeletonStreamFeature(
        layout='coco',
        feats='jm')(dict(keypoint=kp.copy(),
                         keypoint_score=score.copy()))['keypoint']
    np.testing.assert_allclose(
        out[:, :-1, :, :2], kp[:, 1:] - kp[:, :-1], atol=1e-6)
    np.testing.assert_array_equal(out[:, -1, :, :2], 0)
    np.testing.assert_allclose(
        out[:, :-1, :, 2], (score[:, 1:] + score[:, :-1]) / 2, atol=1e-6)


def test_without_score_channel():
    kp = make_kp(17, channels=2)
    results = dict(keypoint=kp.copy(), keypoint_score=make_score(kp))
    out = SkeletonStreamFeature(
        layout='coco', feats='b', with_score=False)(
            results)
    assert 'keypoint_score' not in out
    assert out['keypoint'].shape == (2, 6, 17, 2)
    np.testing.assert_allclose(out['keypoint'],
                               joint_to_bone(kp, get_layout('coco')))


def test_several_feats_concatenate_on_last_axis():
    kp = make_kp(17, channels=2)
    score = make_score(kp)
    feats = ['jm', 'j', 'b']
    out = SkeletonStreamFeature(
        layout='coco',
        feats=feats)(dict(keypoint=kp.copy(),
                          keypoint_score=score.copy()))['keypoint']
    assert out.shape == (2, 6, 17, 9)
    for i, feat in enumerate(feats):
        single = SkeletonStreamFeature(
            layout='coco',
            feats=feat)(dict(keypoint=kp.copy(),
                             keypoint_score=score.copy()))['keypoint']
        np.testing.assert_array_equal(out[..., 3 * i:3 * i + 3], single)


@pytest.mark.parametrize('feats', ['x', ['j', 'bone'], []])
def test_unknown_stream_raises(feats):
    with pytest.raises(ValueError, match='unknown stream'):
        SkeletonStreamFeature(feats=feats)


@pytest.mark.parametrize(
    'layout', ['nw-ucla', CUSTOM], ids=['nw-ucla', 'custom'])
def test_other_layouts(layout):
    lay = get_layout(layout)
    kp = make_kp(lay.num_node)
    out = SkeletonStreamFeature(
        layout=layout, feats=['j', 'b',
                              'bm'])(dict(keypoint=kp.copy()))['keypoint']
    assert out.shape == (2, 6, lay.num_node, 9)
    np.testing.assert_array_equal(out[..., :3], kp)
    bone = np.stack(
        [kp[..., v, :] - kp[..., p, :] for v, p in enumerate(parent_of(lay))],
        axis=2)
    np.testing.assert_allclose(out[..., 3:6], bone, atol=1e-6)
    np.testing.assert_allclose(out[..., 6:], to_motion(bone), atol=1e-6)
    np.testing.assert_array_equal(out[..., lay.center, 3:6], 0)


def test_wrong_joint_count_for_bones_raises():
    with pytest.raises(ValueError, match='joints'):
        SkeletonStreamFeature(
            layout='nw-ucla', feats='b')(
                dict(keypoint=make_kp(25)))


def test_built_from_registry():
    t = TRANSFORMS.build(
        dict(type='SkeletonStreamFeature', layout='coco', feats=['j', 'b']))
    assert isinstance(t, SkeletonStreamFeature)
    assert t.layout is get_layout('coco')
    assert t.feats == ('j', 'b')
    assert set(STREAMS) == {'j', 'b', 'jm', 'bm'}
