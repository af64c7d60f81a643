import copy

import numpy as np
import pytest
from mmaction.datasets.transforms import PreNormalize3D
from mmaction.registry import TRANSFORMS

from mmcsre.datasets.transforms import SkeletonPreNormalize, joint_to_bone
from mmcsre.structures import get_layout

CUSTOM = dict(
    name='stick',
    num_node=6,
    inward=[(1, 0), (2, 1), (3, 2), (4, 2), (5, 0)],
    center=0,
    origin=1,
    spine=(0, 2),
    shoulders=(3, 4))
LAYOUTS_3D = ['nturgb+d', 'nw-ucla', CUSTOM]
IDS_3D = ['nturgb+d', 'nw-ucla', 'custom']
OFFSET = np.array([0.4, -0.3, 3.0])


def make_kp(num_node, num_frames=6, num_person=2, channels=3, seed=0):
    rng = np.random.default_rng(seed)
    kp = rng.normal(size=(num_person, num_frames, num_node, channels))
    return (kp + OFFSET[:channels]).astype(np.float32)


def unit(v):
    return v / np.linalg.norm(v)


def run(kp, **kwargs):
    results = dict(
        keypoint=kp.copy(),
        total_frames=kp.shape[1],
        frame_dir='S001C001P001R001A001')
    return SkeletonPreNormalize(**kwargs)(results)


@pytest.mark.parametrize('layout', LAYOUTS_3D, ids=IDS_3D)
def test_origin_of_first_frame_goes_to_zero(layout):
    lay = get_layout(layout)
    kp = make_kp(lay.num_node)
    out = run(kp, layout=layout)
    assert out['keypoint'].shape == kp.shape
    assert out['keypoint'].dtype == np.float32
    assert out['total_frames'] == kp.shape[1]
    np.testing.assert_allclose(out['keypoint'][0, 0, lay.origin], 0, atol=1e-6)
    np.testing.assert_allclose(out['body_center'], kp[0, 0, lay.origin])
    # the origin of other frames is not forced to zero
    assert np.abs(out['keypoint'][0, 1, lay.origin]).sum() > 1e-3


@pytest.mark.parametrize('layout', LAYOUTS_3D, ids=IDS_3D)
def test_spine_step_aligns_spine_with_z(layout):
    lay = get_layout(layout)
    kp = make_kp(lay.num_node, seed=1)
    out = run(kp, layout=layout, align_shoulder=False)['keypoint']
    bottom, top = lay.spine
    np.testing.assert_allclose(
        unit(out[0, 0, top] - out[0, 0, bottom]), [0, 0, 1], atol=1e-5)
    # with the step off the spine stays where it was
    off = run(
        kp, layout=layout, align_spine=False, align_shoulder=False)['keypoint']
    np.testing.assert_allclose(
        off[0, 0, top] - off[0, 0, bottom],
        kp[0, 0, top] - kp[0, 0, bottom],
        atol=1e-6)


@pytest.mark.parametrize('layout', LAYOUTS_3D, ids=IDS_3D)
def test_shoulder_step_aligns_right_to_left_with_x(layout):
    lay = get_layout(layout)
    kp = make_kp(lay.num_node, seed=2)
    out = run(kp, layout=layout, align_spine=False)['keypoint']
    right, left = lay.shoulders
    np.testing.assert_allclose(
        unit(out[0, 0, right] - out[0, 0, left]), [1, 0, 0], atol=1e-5)


@pytest.mark.parametrize('layout', LAYOUTS_3D, ids=IDS_3D)
def test_both_steps_end_with_shoulders_on_x(layout):
    lay = get_layout(layout)
    kp = make_kp(lay.num_node, seed=3)
    out = run(kp, layout=layout)['keypoint']
    right, left = lay.shoulders
    np.testing.assert_allclose(
        unit(out[0, 0, right] - out[0, 0, left]), [1, 0, 0], atol=1e-5)
    np.testing.assert_allclose(out[0, 0, lay.origin], 0, atol=1e-6)


@pytest.mark.parametrize('layout', LAYOUTS_3D, ids=IDS_3D)
def test_is_a_proper_rigid_motion(layout):
    lay = get_layout(layout)
    kp = make_kp(lay.num_node, seed=4)
    out = run(kp, layout=layout)['keypoint']
    # bone lengths are preserved
    np.testing.assert_allclose(
        np.linalg.norm(joint_to_bone(out, lay), axis=-1),
        np.linalg.norm(joint_to_bone(kp, lay), axis=-1),
        atol=1e-5)
    # one rotation (det +1) and one translation map every point
    src = kp.reshape(-1, 3).astype(np.float64)
    dst = out.reshape(-1, 3).astype(np.float64)
    src_c, dst_c = src - src.mean(0), dst - dst.mean(0)
    R, *_ = np.linalg.lstsq(src_c, dst_c, rcond=None)
    np.testing.assert_allclose(src_c @ R, dst_c, atol=1e-4)
    np.testing.assert_allclose(R.T @ R, np.eye(3), atol=1e-5)
    assert np.linalg.det(R) == pytest.approx(1.0, abs=1e-5)


def test_absent_joints_and_persons_stay_zero():
    kp = make_kp(25, num_frames=5, seed=5)
    kp[0, 2, 7] = 0  # one missing joint
    kp[1, 3] = 0  # second person absent in frame 3
    out = run(kp)['keypoint']
    assert out.shape == kp.shape
    np.testing.assert_array_equal(out[0, 2, 7], 0)
    np.testing.assert_array_equal(out[1, 3], 0)
    assert (np.abs(out[0, 2]).sum(-1) > 0).sum() == 24


def test_drops_frames_where_main_person_is_absent():
    kp = make_kp(25, num_frames=9, seed=6)
    kp[0, [0, 3, 8]] = 0  # main person: 6 frames
    kp[1, :4] = 0  # other person: 5 frames
    score = np.random.default_rng(6).uniform(size=kp.shape[:3])
    results = dict(
        keypoint=kp.copy(), total_frames=9, keypoint_score=score.copy())
    out = SkeletonPreNormalize(
        align_center=False, align_spine=False, align_shoulder=False)(
            results)
    keep = [1, 2, 4, 5, 6, 7]
    assert out['total_frames'] == 6
    np.testing.assert_array_equal(out['keypoint'], kp[:, keep])
    np.testing.assert_array_equal(out['keypoint_score'], score[:, keep])
    np.testing.assert_array_equal(out['body_center'], kp[0, 1, 1])

    # and with every step on, the first kept frame defines the origin
    full = run(kp)
    assert full['total_frames'] == 6 and full['keypoint'].shape[1] == 6
    np.testing.assert_allclose(full['keypoint'][0, 0, 1], 0, atol=1e-6)
    np.testing.assert_array_equal(full['body_center'], kp[0, 1, 1])


def test_person_present_in_more_frames_becomes_first():
    kp = make_kp(25, num_frames=6, seed=7)
    kp[0, 4:] = 0  # person 0 in 4 frames, person 1 in all 6
    score = np.random.default_rng(7).uniform(size=kp.shape[:3])
    results = dict(
        keypoint=kp.copy(), total_frames=6, keypoint_score=score.copy())
    out = SkeletonPreNormalize(
        align_center=False, align_spine=False, align_shoulder=False)(
            results)
    assert out['total_frames'] == 6
    np.testing.assert_array_equal(out['keypoint'], kp[[1, 0]])
    np.testing.assert_array_equal(out['keypoint_score'], score[[1, 0]])

    full = run(kp)
    np.testing.assert_array_equal(full['body_center'], kp[1, 0, 1])
    np.testing.assert_array_equal(full['keypoint'][1, 4:], 0)


def test_tie_keeps_person_order():
    kp = make_kp(25, num_frames=4, seed=8)
    out = SkeletonPreNormalize(
        align_center=False, align_spine=False, align_shoulder=False)(
            dict(keypoint=kp.copy()))
    np.testing.assert_array_equal(out['keypoint'], kp)


def test_2d_input_is_only_centred():
    kp = make_kp(17, num_frames=5, channels=2, seed=9)
    kp[1, 2, 3] = 0
    score = np.random.default_rng(9).uniform(size=kp.shape[:3])
    results = dict(
        keypoint=kp.copy(), keypoint_score=score.copy(), total_frames=5)
    out = SkeletonPreNormalize(layout='coco')(results)
    center = kp[0, 0, 0]
    expected = kp - center
    expected[1, 2, 3] = 0
    assert out['keypoint'].shape == (2, 5, 17, 2)
    np.testing.assert_allclose(out['keypoint'], expected, atol=1e-6)
    np.testing.assert_array_equal(out['keypoint_score'], score)
    np.testing.assert_array_equal(out['body_center'], center)


def test_2d_input_on_3d_layout_is_not_rotated():
    kp = make_kp(25, num_frames=3, channels=2, seed=10)
    out = run(kp)['keypoint']
    np.testing.assert_allclose(out, kp - kp[0, 0, 1], atol=1e-6)


def test_one_frame_input():
    kp = make_kp(25, num_frames=1, num_person=1, seed=11)
    out = run(kp)
    assert out['keypoint'].shape == (1, 1, 25, 3)
    assert out['total_frames'] == 1
    k = out['keypoint']
    np.testing.assert_allclose(k[0, 0, 1], 0, atol=1e-6)
    np.testing.assert_allclose(
        unit(k[0, 0, 8] - k[0, 0, 4]), [1, 0, 0], atol=1e-5)


def test_all_zero_sample_is_returned_unchanged():
    kp = np.zeros((2, 4, 25, 3), dtype=np.float64)
    results = dict(keypoint=kp, total_frames=4)
    out = SkeletonPreNormalize()(results)
    assert out['keypoint'] is kp
    assert out['keypoint'].dtype == np.float64
    assert out['total_frames'] == 4
    assert 'body_center' not in out


def test_wrong_joint_count_names_the_sample():
    kp = make_kp(17, num_frames=2, num_person=1)
    with pytest.raises(ValueError) as info:
        run(kp)  # nturgb+d expects 25 joints
    msg = str(info.value)
    assert 'S001C001P001R001A001' in msg
    assert '17 joints' in msg and '25' in msg


def test_built_from_registry_with_a_layout_name():
    t = TRANSFORMS.build(
        dict(
            type='SkeletonPreNormalize',
            layout='nw-ucla',
            align_shoulder=False))
    assert isinstance(t, SkeletonPreNormalize)
    assert t.layout is get_layout('nw-ucla')
    assert not t.align_shoulder and t.align_spine and t.align_center
    assert "'nw-ucla'" in repr(t)


def ntu_two_person_sample(swap):
    kp = make_kp(25, num_frames=10, seed=12)
    kp[1, 0, :] += 0.5
    kp[0, 6, 3] = 0  # a missing joint
    if swap:
        kp[0, 7:] = 0  # person 1 present in more frames
    else:
        kp[1, :2] = 0
    return kp


@pytest.mark.parametrize('swap', [False, True])
def test_agrees_with_mmaction_prenormalize3d(swap):
    kp = ntu_two_person_sample(swap)
    ref = PreNormalize3D()(dict(keypoint=kp.copy(), total_frames=10))
    ours = run(kp)
    assert ours['keypoint'].shape == ref['keypoint'].shape
    assert ours['total_frames'] == ref['total_frames']
    np.testing.assert_allclose(ours['keypoint'], ref['keypoint'], atol=1e-5)
    np.testing.assert_allclose(
        ours['body_center'], ref['body_center'], atol=1e-6)


@pytest.mark.parametrize('flags', [
    dict(align_spine=False),
    dict(align_shoulder=False),
    dict(align_spine=False, align_shoulder=False),
])
def test_agrees_with_mmaction_prenormalize3d_per_step(flags):
    # (mmaction2 1.1's PreNormalize3D crashes with align_center=False: it
    # then never sets the body_center it returns)
    kp = ntu_two_person_sample(swap=False)
    ref = PreNormalize3D(**flags)(dict(keypoint=kp.copy(), total_frames=10))
    ours = run(kp, **flags)
    np.testing.assert_allclose(ours['keypoint'], ref['keypoint'], atol=1e-5)


def test_does_not_modify_the_input_array():
    kp = make_kp(25, seed=13)
    before = copy.deepcopy(kp)
    run(kp)
    np.testing.assert_array_equal(kp, before)
