"""AddVisibilityChannel, alone and through the pipeline and the streams."""
import numpy as np
import pytest
import torch
from mmaction.registry import TRANSFORMS
from mmaction.structures import ActionDataSample
from mmengine.dataset import Compose
from mmengine.registry import init_default_scope

from mmcsre.datasets.transforms import AddVisibilityChannel, joint_to_bone
from mmcsre.models.data_preprocessors import SkeletonDataPreprocessor
from mmcsre.structures import get_layout


def random_kp(shape, seed=0):
    return np.random.default_rng(seed).uniform(1, 2, shape).astype(np.float32)


def test_score_above_threshold_is_visible():
    kp = random_kp((2, 3, 18, 2))
    score = np.full((2, 3, 18), 0.5, np.float32)
    score[0, 1, 4] = 0.  # missed joint
    score[1, 2, 7] = 0.05
    out = AddVisibilityChannel(
        score_thr=0.1)(dict(keypoint=kp, keypoint_score=score))['keypoint']
    assert out.shape == (2, 3, 18, 3) and out.dtype == np.float32
    np.testing.assert_array_equal(out[..., :2], kp)
    expected = np.ones((2, 3, 18), np.float32)
    expected[0, 1, 4] = expected[1, 2, 7] = 0
    np.testing.assert_array_equal(out[..., 2], expected)
    # use_score=False falls back to the coordinates: all present here
    out = AddVisibilityChannel(
        use_score=False)(dict(keypoint=kp, keypoint_score=score))['keypoint']
    assert out[..., 2].min() == 1


def test_without_score_per_person_or_per_joint():
    kp = random_kp((2, 4, 5, 3))
    kp[1, 2:] = 0  # person 1 leaves after frame 1
    kp[0, 0, 3] = 0  # a joint exactly at the origin / missing
    person = AddVisibilityChannel()(dict(keypoint=kp))['keypoint'][..., -1]
    assert person[0].min() == 1  # the zero joint of a present person
    assert person[1, :2].min() == 1 and person[1, 2:].max() == 0
    joint = AddVisibilityChannel(per_joint=True)(dict(
        keypoint=kp))['keypoint'][..., -1]
    assert joint[0, 0, 3] == 0 and joint[0].sum() == 4 * 5 - 1
    np.testing.assert_array_equal(joint[1], person[1])


def test_score_of_another_shape_is_an_error():
    with pytest.raises(ValueError, match='before FormatGCNInput'):
        AddVisibilityChannel()(
            dict(
                keypoint=random_kp((1, 2, 1, 4, 5, 3)),
                keypoint_score=np.ones((1, 4, 5)),
                frame_dir='x'))


def _pipeline(layout, clip_len):
    init_default_scope('mmaction')
    return Compose([
        TRANSFORMS.build(t) for t in [
            dict(type='SkeletonPreNormalize', layout=layout),
            dict(type='AddVisibilityChannel'),
            dict(type='SkeletonStreamFeature', layout=layout, feats='j'),
            dict(type='PadByRepetition', clip_len=clip_len),
            dict(
                type='UniformSampleFrames', clip_len=clip_len, test_mode=True),
            dict(type='PoseDecode'),
            dict(type='FormatGCNInput', num_person=2),
            dict(type='PackActionInputs')
        ]
    ])


def _stream(inputs, stream, layout, num_coords):
    pre = SkeletonDataPreprocessor(
        stream=stream, layout=layout, num_coords=num_coords)
    data = dict(inputs=[inputs], data_samples=[ActionDataSample()])
    return pre(data)['inputs'][0]


def test_3d_pipeline_visibility_survives_bone_and_motion_streams():
    """NTU-style 3D (x, y, z, visibility): ``num_coords=3``."""
    kp = random_kp((1, 6, 25, 3))
    kp[0, 4:] = 0  # empty frames: SkeletonPreNormalize drops them
    out = _pipeline('nturgb+d', 8)(
        dict(keypoint=kp, total_frames=6, label=0, frame_dir='s'))
    x = out['inputs']  # (clips, M, T, V, C)
    assert tuple(x.shape) == (1, 2, 8, 25, 4)
    # SkeletonPreNormalize put the origin joint of frame 0 at exactly 0;
    # it is still visible. The padded second person is not.
    assert x[0, 0, 0, 1, :3].abs().sum() == 0 and x[0, 0, 0, 1, 3] == 1
    assert x[0, 0, ..., 3].min() == 1 and x[0, 1].abs().sum() == 0

    layout = get_layout('nturgb+d')
    for stream in ('b', 'jm', 'bm'):
        feat = _stream(x, stream, 'nturgb+d', num_coords=3)
        vis = feat[..., 3]
        assert set(vis.unique().tolist()) <= {0., 0.5, 1.}
        assert vis[0, 1].abs().sum() == 0  # padded person: invisible
        assert vis[0, 0].min() == 1  # visible in every frame and bone
    # coordinates ignore the visibility channel
    bone = _stream(x, 'b', 'nturgb+d', num_coords=3)
    torch.testing.assert_close(bone[..., :3],
                               joint_to_bone(x[..., :3], layout))
    # without num_coords the visibility would be differenced to 0
    wrong = _stream(x, 'jm', 'nturgb+d', num_coords=None)
    assert wrong[0, 0, :-1, :, 3].abs().max() == 0


def test_2d_score_pipeline_bone_visibility_is_the_mean_of_its_joints():
    """Kinetics-style 2D: (x, y, visibility, score), ``num_coords=2``."""
    kp = random_kp((1, 3, 18, 2))
    score = np.full((1, 3, 18), 0.8, np.float32)
    score[0, :, 4] = 0  # right wrist (child of the right elbow 3) missed
    kp[0, :, 4] = 0
    score[0, 1, 7] = 0  # left wrist missed in frame 1 only
    kp[0, 1, 7] = 0
    out = _pipeline('openpose', 3)(
        dict(
            keypoint=kp,
            keypoint_score=score,
            total_frames=3,
            label=0,
            frame_dir='k'))
    x = out['inputs']
    assert tuple(x.shape) == (1, 2, 3, 18, 4)
    assert x[0, 0, :, 4, 2].max() == 0 and x[0, 0, :, 3, 2].min() == 1
    bone = _stream(x, 'b', 'openpose', num_coords=2)
    # bone 4 joins a visible and an invisible joint: 0.5
    assert bone[0, 0, :, 4, 2].tolist() == [0.5] * 3
    assert bone[0, 0, :, 3, 2].tolist() == [1.] * 3
    torch.testing.assert_close(bone[0, 0, :, 4, 3], torch.full((3, ), 0.4))
    bm = _stream(x, 'bm', 'openpose', num_coords=2)
    assert bm[0, 0, :, 4, 2].tolist() == [0.5] * 3
    assert bm[0, 0, :, :, :2].abs().max() < 2  # coordinates differenced
    # motion visibility: mean of frames t and t + 1, the last keeps its own
    jm = _stream(x, 'jm', 'openpose', num_coords=2)
    assert jm[0, 0, :, 7, 2].tolist() == [0.5, 0.5, 1.]
