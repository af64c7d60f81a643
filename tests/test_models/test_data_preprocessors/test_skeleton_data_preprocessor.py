"""SkeletonDataPreprocessor: the stream of a batch, for every layout."""
import numpy as np
import pytest
import torch
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample

from mmcsre.datasets.transforms import SkeletonStreamFeature
from mmcsre.models.data_preprocessors import SkeletonDataPreprocessor

CUSTOM = dict(num_node=5, inward=[(0, 1), (2, 1), (3, 1), (4, 3)], center=1)
# (layout, joints, one (child, parent) pair read off the layout definition)
LAYOUTS = [('nturgb+d', 25, (3, 2)), ('nw-ucla', 20, (3, 2)),
           ('coco', 17, (15, 13)), ('openpose', 18, (4, 3)),
           (CUSTOM, 5, (4, 3))]


def joints(num_joints: int, frames: int = 4, channels: int = 3):
    """(1, 1, 1, T, V, C) with joint v at (v, 2v, 3v) + 10 t per frame."""
    v = torch.arange(num_joints, dtype=torch.float32)
    base = torch.stack([v, 2 * v, 3 * v], -1)[:, :channels]
    t = 10 * torch.arange(frames, dtype=torch.float32)[:, None, None]
    return (base[None] + t)[None, None, None]


def run(pre, inputs):
    data = dict(
        inputs=[x for x in inputs],
        data_samples=[ActionDataSample() for _ in inputs])
    return pre(data)['inputs']


@pytest.mark.parametrize('layout,num_joints,pair', LAYOUTS)
def test_hand_computed_bone_and_motion(layout, num_joints, pair):
    child, parent = pair
    x = joints(num_joints)
    bone = run(SkeletonDataPreprocessor(stream='b', layout=layout), x)
    d = child - parent
    # (child - parent) * (1, 2, 3): frame offsets cancel in a bone.
    assert bone[0, 0, 0, :, child].tolist() == [[d, 2 * d, 3 * d]] * 4
    jm = run(SkeletonDataPreprocessor(stream='jm', layout=layout), x)
    assert jm[0, 0, 0, :3, child].tolist() == [[10., 10., 10.]] * 3
    assert jm[0, 0, 0, 3].abs().sum() == 0  # last frame
    bm = run(SkeletonDataPreprocessor(stream='bm', layout=layout), x)
    assert bm.abs().sum() == 0  # bones are constant over time here
    j = run(SkeletonDataPreprocessor(stream='j', layout=layout), x)
    assert torch.equal(j, x)


@pytest.mark.parametrize('layout,num_joints,pair', LAYOUTS)
@pytest.mark.parametrize('stream', ['j', 'b', 'jm', 'bm'])
@pytest.mark.parametrize('two_d', [False, True])
def test_batch_equals_per_sample_pipeline_transform(layout, num_joints, pair,
                                                    stream, two_d):
    rng = np.random.default_rng(0)
    kp = rng.normal(size=(3, 2, 6, num_joints, 2 if two_d else 3))
    score = rng.uniform(size=kp.shape[:-1]) if two_d else None
    expected, batch = [], []
    for i in range(len(kp)):
        sample = dict(keypoint=kp[i].astype(np.float32))
        if two_d:
            sample['keypoint_score'] = score[i]
        joint = SkeletonStreamFeature(layout, 'j')(dict(sample))['keypoint']
        ref = SkeletonStreamFeature(layout, stream)(dict(sample))['keypoint']
        batch.append(torch.from_numpy(joint)[None])
        expected.append(ref)
    pre = SkeletonDataPreprocessor(
        stream=stream, layout=layout, num_coords=2 if two_d else None)
    got = run(pre, batch)
    assert got.shape == (3, 1, 2, 6, num_joints, 3)
    np.testing.assert_allclose(
        got[:, 0].numpy(), np.stack(expected), rtol=1e-6, atol=1e-6)


def test_score_channel_is_averaged_not_differenced():
    x = joints(17, channels=2)
    score = torch.full_like(x[..., :1], 0.5)
    score[..., 15, :] = 1.0
    x = torch.cat([x, score], -1)
    bone = run(
        SkeletonDataPreprocessor(stream='b', layout='coco', num_coords=2), x)
    assert bone[0, 0, 0, 0, 15].tolist() == [2., 4., 0.75]


def test_errors_are_clear():
    with pytest.raises(ValueError, match='unknown stream'):
        SkeletonDataPreprocessor(stream='x')
    with pytest.raises(ValueError, match='needs the skeleton layout'):
        SkeletonDataPreprocessor(stream='bm')
    pre = SkeletonDataPreprocessor(stream='j', layout='nw-ucla')
    with pytest.raises(ValueError, match="layout 'nw-ucla' has 20"):
        run(pre, joints(25))


def test_built_from_registry_and_motion_without_layout():
    pre = MODELS.build(dict(type='SkeletonDataPreprocessor', stream='jm'))
    out = run(pre, joints(5))
    assert out[0, 0, 0, 0, 0].tolist() == [10., 10., 10.]
