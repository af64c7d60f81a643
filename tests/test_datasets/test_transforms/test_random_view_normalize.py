"""RandomViewNormalize: centring, random view and scale, min-max to [-1, 1]."""
import numpy as np
import pytest

from mmcsre.datasets.transforms import RandomViewNormalize
from mmcsre.datasets.transforms.random_view_normalize import view_matrix


def skeleton(seed=0, shape=(1, 12, 20, 3)):
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


def test_view_matrix_is_a_scaled_rotation():
    mat = view_matrix(35, -50, 1.3)
    np.testing.assert_allclose(mat @ mat.T, 1.3**2 * np.eye(3), atol=1e-12)
    assert np.linalg.det(mat) == pytest.approx(1.3**3)
    np.testing.assert_allclose(view_matrix(0, 0, 1), np.eye(3))
    # 90 degrees about x maps y onto z for row vectors p @ M
    np.testing.assert_allclose(
        np.array([0., 1., 0.]) @ view_matrix(90, 0, 1), [0., 0., 1.],
        atol=1e-12)


def test_output_spans_minus_one_to_one_per_axis():
    np.random.seed(0)
    out = RandomViewNormalize()(dict(keypoint=skeleton()))['keypoint']
    assert out.dtype == np.float32 and out.shape == (1, 12, 20, 3)
    flat = out.reshape(-1, 3)
    np.testing.assert_allclose(flat.min(0), -1, atol=1e-6)
    np.testing.assert_allclose(flat.max(0), 1, atol=1e-6)


def test_test_mode_is_deterministic_min_max_of_centred_points():
    kp = skeleton(1)
    out = RandomViewNormalize(test_mode=True)(dict(keypoint=kp.copy()))
    flat = (kp - kp[0, 0, 1]).reshape(-1, 3)
    expected = 2 * (flat - flat.min(0)) / (flat.max(0) - flat.min(0)) - 1
    np.testing.assert_allclose(
        out['keypoint'].reshape(-1, 3), expected, atol=1e-6)


def test_training_draws_a_random_view():
    kp = skeleton(2)
    np.random.seed(0)
    a = RandomViewNormalize()(dict(keypoint=kp.copy()))['keypoint']
    b = RandomViewNormalize()(dict(keypoint=kp.copy()))['keypoint']
    assert not np.allclose(a, b)
    np.random.seed(0)
    again = RandomViewNormalize()(dict(keypoint=kp.copy()))['keypoint']
    np.testing.assert_array_equal(a, again)


def test_flat_axis_becomes_zero():
    kp = skeleton(3)
    kp[..., 2] = 4.0
    out = RandomViewNormalize(test_mode=True)(dict(keypoint=kp))['keypoint']
    assert np.all(out[..., 2] == 0)


def test_bad_input_and_arguments():
    with pytest.raises(ValueError, match=r'3D keypoints .* s1'):
        RandomViewNormalize()(
            dict(keypoint=np.zeros((1, 4, 20, 2)), frame_dir='s1'))
    with pytest.raises(ValueError, match='T>0'):
        RandomViewNormalize()(dict(keypoint=np.zeros((1, 0, 20, 3))))
    with pytest.raises(ValueError, match='scale_range'):
        RandomViewNormalize(scale_range=(0, 1))
    with pytest.raises(ValueError, match='max_angle'):
        RandomViewNormalize(max_angle=-1)
