import pickle

import numpy as np
import pytest
import torch
from mmaction.registry import DATASETS
from mmengine.registry import DefaultScope

from mmcsre.datasets import AnnotationError, SkeletonDataset

CLIP_LEN = 16


@pytest.fixture(autouse=True)
def mmaction_scope():
    """Build pipeline transforms from mmaction2's registry, as a runner with
    ``default_scope='mmaction'`` does."""
    with DefaultScope.overwrite_default_scope('mmaction'):
        yield


def ntu_anno(frame_dir, label, num_frames, num_person=2, seed=0):
    rng = np.random.default_rng(seed)
    kp = rng.normal(size=(num_person, num_frames, 25, 3)) + [0., 0., 3.]
    return dict(
        frame_dir=frame_dir,
        label=label,
        total_frames=num_frames,
        keypoint=kp.astype(np.float32))


def pyskl_2d_anno(frame_dir, label, num_frames, seed=0):
    """An entry as in pyskl's ``ntu60_hrnet.pkl``."""
    rng = np.random.default_rng(seed)
    kp = rng.uniform(0, 1000, size=(2, num_frames, 17, 2))
    score = rng.uniform(0.05, 1.0, size=(2, num_frames, 17))
    return dict(
        frame_dir=frame_dir,
        label=label,
        img_shape=(1080, 1920),
        original_shape=(1080, 1920),
        total_frames=num_frames,
        keypoint=kp.astype(np.float16),
        keypoint_score=score.astype(np.float16))


def dump(path, data):
    with open(path, 'wb') as f:
        pickle.dump(data, f)
    return str(path)


def ntu_pickle(tmp_path, annos=None):
    annos = annos or [
        ntu_anno('S001C001P001R001A001', 0, 20, seed=1),
        ntu_anno('S001C002P001R001A002', 1, 1, seed=2),  # one frame
        ntu_anno('S002C001P003R001A003', 2, 33, num_person=1, seed=3),
    ]
    data = dict(
        split=dict(
            xsub_train=['S001C001P001R001A001', 'S001C002P001R001A002'],
            xsub_val=['S002C001P003R001A003']),
        annotations=annos)
    return dump(tmp_path / 'ntu.pkl', data)


def pipeline_3d(test_mode=False, num_clips=1):
    return [
        dict(type='SkeletonPreNormalize', layout='nturgb+d'),
        dict(type='SkeletonStreamFeature', layout='nturgb+d', feats='j'),
        dict(
            type='UniformSampleFrames',
            clip_len=CLIP_LEN,
            num_clips=num_clips,
            test_mode=test_mode),
        dict(type='PoseDecode'),
        dict(type='FormatGCNInput', num_person=2),
        dict(type='PackActionInputs', meta_keys=('frame_dir', 'sample_idx'))
    ]


def test_builds_and_returns_gcn_inputs(tmp_path):
    ds = SkeletonDataset(
        ntu_pickle(tmp_path),
        pipeline_3d(),
        split='xsub_train',
        num_classes=3,
        layout='nturgb+d')
    assert len(ds) == 2
    sample = ds[0]
    inputs = sample['inputs']
    assert isinstance(inputs, torch.Tensor)
    assert tuple(inputs.shape) == (1, 2, CLIP_LEN, 25, 3)
    assert torch.isfinite(inputs).all()
    ds_sample = sample['data_samples']
    assert ds_sample.frame_dir == 'S001C001P001R001A001'
    assert ds_sample.sample_idx == 0
    assert int(ds_sample.gt_labels.item) == 0


def test_one_frame_sequence_is_looped_to_clip_len(tmp_path):
    ds = SkeletonDataset(
        ntu_pickle(tmp_path), pipeline_3d(), split='xsub_train', num_classes=3)
    sample = ds[1]
    inputs = sample['inputs']
    assert tuple(inputs.shape) == (1, 2, CLIP_LEN, 25, 3)
    assert sample['data_samples'].frame_dir == 'S001C002P001R001A002'
    # every sampled frame is the one frame there is
    assert torch.equal(inputs, inputs[:, :, :1].expand_as(inputs))
    assert inputs.abs().sum() > 0


def test_val_split_and_test_mode_clips(tmp_path):
    ds = SkeletonDataset(
        ntu_pickle(tmp_path),
        pipeline_3d(test_mode=True, num_clips=2),
        split='xsub_val',
        test_mode=True,
        num_classes=3)
    assert len(ds) == 1
    inputs = ds[0]['inputs']
    # one person padded to two
    assert tuple(inputs.shape) == (2, 2, CLIP_LEN, 25, 3)
    assert torch.all(inputs[:, 1] == 0)


def test_no_split_uses_every_annotation(tmp_path):
    ds = SkeletonDataset(ntu_pickle(tmp_path), pipeline=[])
    assert len(ds) == 3
    info = ds.get_data_info(2)
    assert info['frame_dir'] == 'S002C001P003R001A003'
    assert info['total_frames'] == 33
    assert info['keypoint'].shape == (1, 33, 25, 3)


def test_total_frames_is_filled_in(tmp_path):
    anno = ntu_anno('a', 0, 7)
    del anno['total_frames']
    ds = SkeletonDataset(dump(tmp_path / 'x.pkl', [anno]), pipeline=[])
    assert ds.get_data_info(0)['total_frames'] == 7


def test_built_from_registry(tmp_path):
    ds = DATASETS.build(
        dict(
            type='SkeletonDataset',
            ann_file=ntu_pickle(tmp_path),
            pipeline=pipeline_3d(),
            split='xsub_train',
            num_classes=3,
            layout='nturgb+d'))
    assert isinstance(ds, SkeletonDataset)
    assert len(ds) == 2


def test_pyskl_2d_pickle_loads_unchanged_with_coco_layout(tmp_path):
    annos = [
        pyskl_2d_anno(f'S001C001P001R001A{i:03d}', i, 30 + i, seed=i)
        for i in range(1, 4)
    ]
    data = dict(
        split=dict(
            xsub_train=[a['frame_dir'] for a in annos[:2]],
            xsub_val=[annos[2]['frame_dir']]),
        annotations=annos)
    path = dump(tmp_path / 'ntu60_hrnet.pkl', data)
    pipeline = [
        dict(type='PreNormalize2D'),
        dict(type='SkeletonStreamFeature', layout='coco', feats='j'),
        dict(type='UniformSampleFrames', clip_len=CLIP_LEN),
        dict(type='PoseDecode'),
        dict(type='FormatGCNInput', num_person=2),
        dict(type='PackActionInputs')
    ]
    ds = SkeletonDataset(
        path, pipeline, split='xsub_train', num_classes=60, layout='coco')
    assert len(ds) == 2

    info = ds.get_data_info(1)
    for key in ('frame_dir', 'label', 'img_shape', 'original_shape',
                'total_frames'):
        assert info[key] == annos[1][key]
    assert info['keypoint'].dtype == np.float16
    np.testing.assert_array_equal(info['keypoint'], annos[1]['keypoint'])
    np.testing.assert_array_equal(info['keypoint_score'],
                                  annos[1]['keypoint_score'])

    sample = ds[1]
    inputs = sample['inputs']
    assert tuple(inputs.shape) == (1, 2, CLIP_LEN, 17, 3)
    # the third channel is the detector score, taken from the file
    scores = set(np.unique(annos[1]['keypoint_score'].astype(np.float32)))
    assert set(np.unique(inputs[..., 2].numpy())) <= scores
    # PreNormalize2D maps pixel coordinates into [-1, 1]
    assert inputs[..., :2].abs().max() <= 1.0
    assert int(sample['data_samples'].gt_labels.item) == 2


def test_layout_joint_count_mismatch_raises(tmp_path):
    path = ntu_pickle(tmp_path)
    with pytest.raises(AnnotationError) as info:
        SkeletonDataset(path, pipeline=[], split='xsub_train', layout='coco')
    msg = str(info.value)
    assert path in msg and "split 'xsub_train'" in msg
    assert 'sample #0' in msg and "frame_dir='S001C001P001R001A001'" in msg
    assert "'keypoint' has 25 joints, the layout expects 17" in msg


def test_label_out_of_range_names_file_split_and_sample(tmp_path):
    path = ntu_pickle(tmp_path)
    with pytest.raises(AnnotationError) as info:
        SkeletonDataset(path, pipeline=[], split='xsub_train', num_classes=1)
    msg = str(info.value)
    assert path in msg and "split 'xsub_train'" in msg
    assert "sample #1, frame_dir='S001C002P001R001A002'" in msg
    assert "'label'=1 out of range [0, 0]" in msg


def test_nan_in_one_sample_of_the_split(tmp_path):
    annos = [ntu_anno('ok', 0, 5), ntu_anno('broken', 1, 5)]
    annos[1]['keypoint'][0, 4, 24, 2] = np.nan
    path = dump(tmp_path / 'nan.pkl', annos)
    with pytest.raises(AnnotationError) as info:
        SkeletonDataset(path, pipeline=[])
    msg = str(info.value)
    assert path in msg and "sample #1, frame_dir='broken'" in msg
    assert '(m, t, v, c)=[0, 4, 24, 2]' in msg


def test_unknown_split(tmp_path):
    path = ntu_pickle(tmp_path)
    with pytest.raises(AnnotationError) as info:
        SkeletonDataset(path, pipeline=[], split='xview_train')
    msg = str(info.value)
    assert path in msg and "unknown split 'xview_train'" in msg
    assert "['xsub_train', 'xsub_val']" in msg


def test_split_with_missing_ids(tmp_path):
    path = dump(
        tmp_path / 'ghost.pkl',
        dict(
            split=dict(train=['a', 'ghost']),
            annotations=[ntu_anno('a', 0, 3)]))
    with pytest.raises(AnnotationError, match=r"e.g. \['ghost'\]"):
        SkeletonDataset(path, pipeline=[], split='train')


def test_unreadable_and_missing_files(tmp_path):
    bad = tmp_path / 'bad.pkl'
    bad.write_bytes(b'\x00\x01garbage')
    with pytest.raises(AnnotationError, match='not a readable pickle'):
        SkeletonDataset(str(bad), pipeline=[])
    with pytest.raises(FileNotFoundError, match='absent.pkl'):
        SkeletonDataset(str(tmp_path / 'absent.pkl'), pipeline=[])


def test_split_errors_give_the_index_in_the_file(tmp_path):
    annos = [
        ntu_anno('a', 0, 5),
        ntu_anno('b', 1, 5),
        ntu_anno('c', 1, 5),
        ntu_anno('b', 2, 5)
    ]
    path = dump(tmp_path / 'dup.pkl',
                dict(split=dict(train=['b', 'c']), annotations=annos))
    with pytest.raises(AnnotationError) as info:
        SkeletonDataset(path, pipeline=[], split='train')
    assert ("[split 'train'], sample #2 (index 3 in the file), frame_dir='b'"
            ': duplicated frame_dir, first seen at sample #0 (index 1 in the '
            'file)') in str(info.value)


def test_class_balanced_dataset(tmp_path):
    """mmengine's ClassBalancedDataset wraps SkeletonDataset: rare classes are
    repeated, every index yields a sample."""
    from mmengine.dataset import ClassBalancedDataset
    labels = [0] * 6 + [1] * 2 + [2]
    annos = [
        ntu_anno(f'S001C001P001R001A{i:03d}', label, 6, seed=i)
        for i, label in enumerate(labels)
    ]
    path = dump(tmp_path / 'imbalanced.pkl', annos)
    dataset = SkeletonDataset(path, pipeline=pipeline_3d(), num_classes=3)
    assert [dataset.get_cat_ids(i) for i in range(len(dataset))] == \
        [[label] for label in labels]
    assert all(type(c[0]) is int for c in map(dataset.get_cat_ids, range(9)))
    balanced = ClassBalancedDataset(dataset=dataset, oversample_thr=0.5)
    assert len(balanced) > len(dataset)
    seen = [balanced.get_cat_ids(i)[0] for i in range(len(balanced))]
    # class 2 (1/9 of the samples) is repeated ceil(sqrt(0.5 * 9)) = 3 times
    assert seen.count(2) == 3 and seen.count(0) == 6
    sample = balanced[len(balanced) - 1]
    assert tuple(sample['inputs'].shape) == (1, 2, CLIP_LEN, 25, 3)
    # memory banks (MemoryBankInitHook) see the base dataset, whose indices
    # the repeated samples carry
    from mmcsre.engine.hooks.memory_bank_init_hook import base_dataset
    assert base_dataset(balanced) is dataset
    assert sample['data_samples'].sample_idx == 8
    built = DATASETS.build(
        dict(
            type='ClassBalancedDataset',
            oversample_thr=0.5,
            dataset=dict(
                type='SkeletonDataset',
                ann_file=path,
                pipeline=pipeline_3d(),
                num_classes=3)))
    assert len(built) == len(balanced)
    # numpy labels give plain ints as well
    annos[8]['label'] = np.int64(2)
    numpy_labels = SkeletonDataset(
        dump(tmp_path / 'np.pkl', annos), pipeline=[])
    assert numpy_labels.get_cat_ids(8) == [2]
    assert type(numpy_labels.get_cat_ids(8)[0]) is int
