"""SortedResampleFrames: ordered stretch/shrink to clip_len frames."""
import numpy as np
import pytest

from mmcsre.datasets.transforms import SortedResampleFrames


@pytest.mark.parametrize('num_frames', [1, 7, 52, 200])
def test_training_indices_are_sorted_in_range_and_of_clip_len(num_frames):
    np.random.seed(num_frames)
    inds = SortedResampleFrames(52).frame_indices(num_frames)
    assert inds.shape == (52, ) and inds.dtype == np.int64
    assert np.all(np.diff(inds) >= 0)
    assert inds.min() >= 0 and inds.max() < num_frames


def test_short_clip_is_stretched_over_its_whole_length():
    np.random.seed(0)
    inds = SortedResampleFrames(52).frame_indices(10)
    # every frame appears (10 frames x 100 copies, 52 draws: each frame
    # is missed with probability ~ (0.9)^52) and repeats about 5 times
    assert set(inds.tolist()) == set(range(10))
    assert np.bincount(inds, minlength=10).max() <= 52


def test_copies_bound_repetitions():
    np.random.seed(1)
    inds = SortedResampleFrames(6, copies=2).frame_indices(3)
    assert inds.tolist() == [0, 0, 1, 1, 2, 2]
    with pytest.raises(ValueError, match='cannot fill'):
        SortedResampleFrames(7, copies=2).frame_indices(3)


def test_test_mode_is_even_spacing():
    inds = SortedResampleFrames(5, test_mode=True).frame_indices(9)
    assert inds.tolist() == [0, 2, 4, 6, 8]


def test_transform_writes_uniform_sample_keys():
    out = SortedResampleFrames(
        8, test_mode=True)(
            dict(keypoint=np.zeros((1, 20, 20, 3)), total_frames=20))
    assert out['frame_inds'].shape == (8, )
    assert out['clip_len'] == 8 and out['num_clips'] == 1
    out = SortedResampleFrames(
        4, test_mode=True)(
            dict(keypoint=np.zeros((1, 3, 20, 3))))
    assert out['frame_inds'].tolist() == [0, 0, 1, 2]


def test_empty_sequence_and_bad_arguments():
    with pytest.raises(ValueError, match='empty'):
        SortedResampleFrames(4).frame_indices(0)
    with pytest.raises(ValueError, match='>= 1'):
        SortedResampleFrames(0)
