"""CP-STN's augmentations: rotation, shear, joint jitter, tail masking and the
two-view packing (cp-stn.txt Sec.

3.2).
"""
import numpy as np
import pytest
from mmaction.datasets.transforms import FormatGCNInput, PackActionInputs

from mmcsre.datasets.transforms import (RandomJointJitter, RandomRotation3D,
                                        RandomShear, TemporalMaskTail,
                                        TwoViewSkeleton)
from mmcsre.datasets.transforms.random_rotation_3d import rodrigues
from mmcsre.datasets.transforms.random_shear import shear_matrix
from mmcsre.structures import get_layout


def _sample(seed=0, num_person=2, num_frames=12, num_joints=20):
    """A random sequence whose second person is zero-padded after frame 4."""
    rng = np.random.default_rng(seed)
    kp = rng.normal(size=(num_person, num_frames, num_joints,
                          3)).astype(np.float32)
    kp[-1, 4:] = 0
    return dict(keypoint=kp)


def _fit_linear(src, dst):
    """The matrix A with dst = src @ A.T (least squares over all points)."""
    a_t, *_ = np.linalg.lstsq(
        src.reshape(-1, 3).astype(np.float64),
        dst.reshape(-1, 3).astype(np.float64),
        rcond=None)
    return a_t.T


def _bone_lengths(kp, layout):
    child, parent = np.array(layout.bone_pairs).T
    return np.linalg.norm(kp[..., child, :] - kp[..., parent, :], axis=-1)


def test_rodrigues_matches_axis_rotation():
    angle = 0.3
    R = rodrigues(np.array([0., 0., 2.]), angle)
    c, s = np.cos(angle), np.sin(angle)
    np.testing.assert_allclose(
        R, [[c, -s, 0], [s, c, 0], [0, 0, 1]], atol=1e-12)


def test_rotation_is_proper_keeps_bones_and_angle_in_range():
    layout = get_layout('nw-ucla')
    np.random.seed(0)
    transform = RandomRotation3D()
    angles, axes = [], []
    for seed in range(40):
        results = _sample(seed)
        before = results['keypoint'].copy()
        after = transform(results)['keypoint']
        np.testing.assert_allclose(
            _bone_lengths(after, layout),
            _bone_lengths(before, layout),
            rtol=1e-4,
            atol=1e-5)
        assert not after[-1, 4:].any(), 'absent frames must stay zero'
        R = _fit_linear(before, after)
        np.testing.assert_allclose(R @ R.T, np.eye(3), atol=1e-4)
        assert np.linalg.det(R) == pytest.approx(1, abs=1e-4)
        angles.append(np.arccos(np.clip((np.trace(R) - 1) / 2, -1, 1)))
        w, v = np.linalg.eig(R)
        axes.append(np.real(v[:, np.argmin(np.abs(w - 1))]))
    angles = np.array(angles)
    assert angles.min() >= 0 and angles.max() <= np.pi / 6 + 1e-4
    assert angles.max() > 0.4  # the range is used, not a constant angle
    # The axis is random, not one fixed coordinate axis.
    assert np.abs(np.array(axes)).std(axis=0).min() > 0.1


def test_shear_matrix_form():
    S = shear_matrix([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    np.testing.assert_allclose(S,
                               [[1, 0.1, 0.2], [0.3, 1, 0.4], [0.5, 0.6, 1]])
    with pytest.raises(ValueError):
        shear_matrix([0.1, 0.2, 0.3])


def test_shear_applies_unit_diagonal_matrix_with_ratios_in_range():
    np.random.seed(1)
    transform = RandomShear(magnitude=1.0)
    ratios = []
    for seed in range(20):
        results = _sample(seed)
        before = results['keypoint'].copy()
        after = transform(results)['keypoint']
        assert not after[-1, 4:].any(), 'absent frames must stay zero'
        S = _fit_linear(before, after)
        np.testing.assert_allclose(np.diag(S), 1, atol=1e-4)
        ratios.append(S[~np.eye(3, dtype=bool)])
    ratios = np.concatenate(ratios)
    assert np.abs(ratios).max() <= 1 + 1e-4
    assert ratios.min() < -0.5 and ratios.max() > 0.5


def test_jitter_rate_and_absent_joints():
    rng = np.random.default_rng(0)
    kp = rng.normal(size=(1, 2000, 20, 3)).astype(np.float32)
    absent = rng.uniform(size=(1, 2000, 20)) < 0.1
    kp[absent] = 0
    np.random.seed(0)
    out = RandomJointJitter(prob=0.2, sigma=0.05)(dict(keypoint=kp.copy()))
    changed = (out['keypoint'] != kp).any(-1)
    assert not changed[absent].any(), 'absent joints must stay zero'
    # ~36,000 present joints: the rate's standard error is 0.002, the
    # tolerance 0.015 (and the seed is fixed).
    assert changed[~absent].mean() == pytest.approx(0.2, abs=0.015)
    noise = (out['keypoint'] - kp)[changed]
    assert noise.std() == pytest.approx(0.05, rel=0.05)


def test_temporal_mask_tail_shapes_and_mask():
    results = TemporalMaskTail(keep_ratio=0.25)(_sample(num_frames=12))
    mask = results['temporal_mask']
    assert mask.shape == (12, ) and mask.dtype == bool
    assert mask.tolist() == [True] * 3 + [False] * 9
    kp = results['keypoint']
    assert kp.shape == (2, 12, 20, 3)
    assert not kp[:, 3:].any() and kp[0, :3].any()
    # T' stays in [1, T - 1]; clips concatenated in time are masked alike.
    assert TemporalMaskTail(0.99).clip_mask(4).tolist() == [1, 1, 1, 0]
    assert TemporalMaskTail(0.01).clip_mask(4).tolist() == [1, 0, 0, 0]
    two = TemporalMaskTail(0.5)(dict(_sample(num_frames=8), num_clips=2))
    assert two['temporal_mask'].tolist() == [1, 1, 0, 0] * 2
    with pytest.raises(ValueError):
        TemporalMaskTail(1.0)


def test_two_view_packs_original_and_views_for_the_model():
    np.random.seed(0)
    results = _sample(num_frames=10)
    original = results['keypoint'].copy()
    pipeline = [
        TwoViewSkeleton(
            spatial_pipeline=[
                dict(type='RandomRotation3D'),
                dict(type='RandomShear')
            ],
            temporal_pipeline=[dict(type='TemporalMaskTail', keep_ratio=0.6)]),
        FormatGCNInput(num_person=2),
        PackActionInputs(meta_keys=('temporal_mask', ))
    ]
    for t in pipeline:
        results = t(results)
    inputs = results['inputs'].numpy()
    assert inputs.shape == (3, 2, 10, 20, 3)
    np.testing.assert_array_equal(inputs[0], original)
    assert not np.allclose(inputs[1], original)
    np.testing.assert_array_equal(inputs[2, :, :6], original[:, :6])
    assert not inputs[2, :, 6:].any()
    mask = results['data_samples'].metainfo['temporal_mask']
    assert mask.tolist() == [True] * 6 + [False] * 4
