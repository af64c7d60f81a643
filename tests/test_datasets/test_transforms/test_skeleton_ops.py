import numpy as np
import pytest

from mmcsre.datasets.transforms import (joint_to_bone, rotation_aligning,
                                        to_motion)
from mmcsre.structures import BUILTIN_LAYOUTS, get_layout

CUSTOM = dict(
    name='star',
    num_node=6,
    inward=[(0, 2), (1, 0), (3, 2), (4, 3), (5, 2)],
    center=2)
LAYOUTS = sorted(BUILTIN_LAYOUTS) + [CUSTOM]
LAYOUT_IDS = sorted(BUILTIN_LAYOUTS) + ['custom']


def naive_bone(kp, layout, num_coords):
    parents = {c: p for c, p in layout.inward}
    out = np.zeros_like(kp)
    for v in range(layout.num_node):
        p = parents.get(v, layout.center)
        for c in range(kp.shape[-1]):
            if c < num_coords:
                out[..., v, c] = kp[..., v, c] - kp[..., p, c]
            else:
                out[..., v, c] = (kp[..., v, c] + kp[..., p, c]) / 2
    return out


def naive_motion(x, num_coords):
    M, T, V, C = x.shape
    out = np.zeros_like(x)
    for t in range(T):
        for c in range(C):
            if c < num_coords:
                if t + 1 < T:
                    out[:, t, :, c] = x[:, t + 1, :, c] - x[:, t, :, c]
            elif t + 1 < T:
                out[:, t, :, c] = (x[:, t + 1, :, c] + x[:, t, :, c]) / 2
            else:
                out[:, t, :, c] = x[:, t, :, c]
    return out


@pytest.mark.parametrize('layout', LAYOUTS, ids=LAYOUT_IDS)
@pytest.mark.parametrize('channels, num_coords', [(3, None), (2, None), (3, 2),
                                                  (4, 3)])
def test_joint_to_bone_matches_naive_loop(layout, channels, num_coords):
    layout = get_layout(layout)
    rng = np.random.default_rng(0)
    kp = rng.normal(size=(2, 5, layout.num_node, channels)).astype(np.float32)
    before = kp.copy()
    bone = joint_to_bone(kp, layout, num_coords)
    nc = channels if num_coords is None else num_coords
    np.testing.assert_allclose(bone, naive_bone(kp, layout, nc), atol=1e-6)
    assert bone.shape == kp.shape and bone.dtype == kp.dtype
    np.testing.assert_array_equal(kp, before)  # input untouched


@pytest.mark.parametrize('layout', LAYOUTS, ids=LAYOUT_IDS)
def test_bone_of_center_is_zero(layout):
    layout = get_layout(layout)
    kp = np.random.default_rng(1).normal(size=(1, 4, layout.num_node, 3)) + 5.
    bone = joint_to_bone(kp, layout)
    np.testing.assert_array_equal(bone[:, :, layout.center], 0)
    others = np.delete(bone, layout.center, axis=2)
    assert (np.abs(others).sum(-1) > 0).all()


def test_bone_extra_channels_are_averaged_not_differenced():
    layout = get_layout('coco')
    kp = np.zeros((1, 1, 17, 3))
    kp[..., 2] = np.arange(17) / 16.  # a per-joint score
    bone = joint_to_bone(kp, layout, num_coords=2)
    parents = layout.parents
    expected = (kp[0, 0, :, 2] + kp[0, 0, parents, 2]) / 2
    np.testing.assert_allclose(bone[0, 0, :, 2], expected)
    assert bone[0, 0, layout.center, 2] == kp[0, 0, layout.center, 2]
    # left ankle (15) hangs on the left knee (13)
    assert bone[0, 0, 15, 2] == pytest.approx((15 + 13) / 32)


def test_joint_to_bone_rejects_wrong_joint_count():
    with pytest.raises(ValueError, match=r"17 joints, layout 'nturgb\+d'"):
        joint_to_bone(np.zeros((1, 2, 17, 3)), get_layout('nturgb+d'))


@pytest.mark.parametrize('num_coords', [None, 3, 2])
def test_to_motion_matches_naive_loop(num_coords):
    x = np.random.default_rng(2).normal(size=(2, 7, 5, 3)).astype(np.float32)
    before = x.copy()
    motion = to_motion(x, num_coords)
    nc = 3 if num_coords is None else num_coords
    np.testing.assert_allclose(motion, naive_motion(x, nc), atol=1e-6)
    np.testing.assert_array_equal(motion[:, -1, :, :nc], 0)
    assert motion.shape == x.shape and motion.dtype == x.dtype
    np.testing.assert_array_equal(x, before)


def test_to_motion_extra_channel_on_last_frame_keeps_the_value():
    x = np.zeros((1, 3, 2, 3))
    x[..., 2] = np.array([0.2, 0.4, 0.8])[None, :, None]
    motion = to_motion(x, num_coords=2)
    np.testing.assert_allclose(motion[0, :, 0, 2], [0.3, 0.6, 0.8])


def test_to_motion_of_one_frame_is_zero():
    x = np.random.default_rng(3).normal(size=(2, 1, 25, 3)) + 1.
    motion = to_motion(x)
    assert motion.shape == x.shape
    np.testing.assert_array_equal(motion, 0)
    # a score channel is carried along, not zeroed
    with_score = to_motion(x, num_coords=2)
    np.testing.assert_array_equal(with_score[..., :2], 0)
    np.testing.assert_array_equal(with_score[..., 2], x[..., 2])


def check_rotation(R):
    assert R.shape == (3, 3)
    np.testing.assert_allclose(R @ R.T, np.eye(3), atol=1e-9)
    assert np.linalg.det(R) == pytest.approx(1.0, abs=1e-9)


def test_rotation_aligning_random_vectors():
    rng = np.random.default_rng(4)
    for _ in range(200):
        v = rng.normal(size=3) * rng.uniform(0.01, 10)
        t = rng.normal(size=3) * rng.uniform(0.01, 10)
        R = rotation_aligning(v, t)
        check_rotation(R)
        np.testing.assert_allclose(
            R @ (v / np.linalg.norm(v)), t / np.linalg.norm(t), atol=1e-9)


@pytest.mark.parametrize('v', [[0, 0, 1], [1, 0, 0], [0, -2, 0],
                               [0.3, -1.2, 2.5], [1e-3, 0, 0]])
def test_rotation_aligning_parallel_is_identity(v):
    v = np.asarray(v, dtype=float)
    R = rotation_aligning(v, 3.5 * v)
    np.testing.assert_allclose(R, np.eye(3), atol=1e-12)


@pytest.mark.parametrize('v', [[0, 0, 1], [1, 0, 0], [0, -2, 0],
                               [0.3, -1.2, 2.5], [1, 1, 1]])
def test_rotation_aligning_antiparallel_is_a_half_turn(v):
    v = np.asarray(v, dtype=float)
    R = rotation_aligning(v, -0.5 * v)
    check_rotation(R)
    u = v / np.linalg.norm(v)
    np.testing.assert_allclose(R @ u, -u, atol=1e-12)
    assert np.trace(R) == pytest.approx(-1.0)  # a rotation by pi


def test_rotation_aligning_nearly_antiparallel():
    v = np.array([0., 0., 1.])
    t = np.array([1e-7, 0., -1.])
    R = rotation_aligning(v, t)
    check_rotation(R)
    np.testing.assert_allclose(R @ v, t / np.linalg.norm(t), atol=1e-6)


@pytest.mark.parametrize('v, t',
                         [([0, 0, 0], [1, 0, 0]), ([1, 2, 3], [0, 0, 0]),
                          ([0, 0, 0], [0, 0, 0]), ([1e-9, 0, 0], [0, 1, 0])])
def test_rotation_aligning_zero_vector_gives_identity(v, t):
    R = rotation_aligning(np.array(v, dtype=float), np.array(t, dtype=float))
    np.testing.assert_array_equal(R, np.eye(3))
