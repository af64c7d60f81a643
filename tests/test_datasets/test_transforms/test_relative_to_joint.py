"""RelativeToJoint: joints relative to a reference joint per frame."""
import numpy as np
import pytest

from mmcsre.datasets.transforms import RelativeToJoint


def test_relative_with_trajectory_kept():
    kp = np.random.default_rng(0).normal(size=(2, 5, 20, 3))
    out = RelativeToJoint(joint=2)(dict(keypoint=kp.copy()))['keypoint']
    np.testing.assert_allclose(out[:, :, 0], kp[:, :, 0] - kp[:, :, 2])
    np.testing.assert_allclose(out[:, :, 2], kp[:, :, 2])  # trajectory


def test_relative_without_trajectory():
    kp = np.random.default_rng(1).normal(size=(1, 4, 20, 3))
    out = RelativeToJoint(
        joint=1, keep_trajectory=False)(dict(keypoint=kp.copy()))['keypoint']
    np.testing.assert_allclose(out, kp - kp[:, :, 1:2])
    assert np.all(out[:, :, 1] == 0)


def test_joint_out_of_range_is_an_error():
    with pytest.raises(ValueError, match=r'V > 25'):
        RelativeToJoint(joint=25)(dict(keypoint=np.zeros((1, 2, 20, 3))))
