"""PadByRepetition: tile a short sequence in time up to clip_len."""
import numpy as np
import pytest
from mmaction.registry import TRANSFORMS
from mmengine.registry import init_default_scope

from mmcsre.datasets.transforms import PadByRepetition


def numbered(num_frames, num_person=2, num_node=3, channels=2):
    """Keypoints whose value is the frame number + 1 (0 means empty)."""
    kp = np.zeros((num_person, num_frames, num_node, channels), np.float32)
    kp += np.arange(1, num_frames + 1, dtype=np.float32)[None, :, None, None]
    return kp


def frame_ids(kp):
    return kp[0, :, 0, 0].astype(int).tolist()


def test_repeats_and_cuts_keypoint_and_score():
    kp = numbered(3)
    score = kp[..., 0] / 10
    out = PadByRepetition(clip_len=8)(
        dict(keypoint=kp, keypoint_score=score, total_frames=3))
    assert frame_ids(out['keypoint']) == [1, 2, 3, 1, 2, 3, 1, 2]
    assert out['keypoint'].shape == (2, 8, 3, 2)
    np.testing.assert_allclose(out['keypoint_score'],
                               out['keypoint'][..., 0] / 10)
    assert out['total_frames'] == 8


def test_empty_ends_are_trimmed_before_repeating_inner_gaps_kept():
    kp = numbered(6)
    kp[:, [0, 3, 5]] = 0  # empty first, inner and last frame
    out = PadByRepetition(clip_len=9)(dict(keypoint=kp.copy()))
    assert frame_ids(out['keypoint']) == [2, 3, 0, 5, 2, 3, 0, 5, 2]
    kept = PadByRepetition(
        clip_len=9, trim_empty=False)(
            dict(keypoint=kp.copy()))
    assert frame_ids(kept['keypoint']) == [0, 2, 3, 0, 5, 0, 0, 2, 3]
    # a sequence with no person at all is repeated as it is
    empty = PadByRepetition(clip_len=4)(dict(keypoint=np.zeros((1, 2, 3, 2))))
    assert empty['keypoint'].shape == (1, 4, 3, 2)


@pytest.mark.parametrize('num_frames', [5, 7])
def test_sequences_of_clip_len_or_longer_are_kept_as_they_are(num_frames):
    kp = numbered(num_frames)
    results = dict(keypoint=kp, total_frames=num_frames)
    out = PadByRepetition(clip_len=5)(results)
    assert out['keypoint'] is kp and out['total_frames'] == num_frames


def test_uniform_sampling_after_padding_keeps_the_padded_sequence():
    init_default_scope('mmaction')
    pad = TRANSFORMS.build(dict(type='PadByRepetition', clip_len=10))
    for test_mode in (False, True):
        sample = TRANSFORMS.build(
            dict(type='UniformSampleFrames', clip_len=10, test_mode=test_mode))
        decode = TRANSFORMS.build(dict(type='PoseDecode'))
        out = decode(sample(pad(dict(keypoint=numbered(4), total_frames=4))))
        assert frame_ids(out['keypoint']) == [1, 2, 3, 4, 1, 2, 3, 4, 1, 2]


def test_rejects_bad_clip_len_and_has_a_repr():
    with pytest.raises(ValueError, match='clip_len'):
        PadByRepetition(clip_len=0)
    assert repr(PadByRepetition(300)) == \
        'PadByRepetition(clip_len=300, trim_empty=True)'
