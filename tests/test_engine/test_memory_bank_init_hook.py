"""MemoryBankInitHook: bank sizes from the training set, lazy layers."""
import logging
from types import SimpleNamespace

import pytest
from mmaction.registry import DATASETS, MODELS
from mmengine.dataset import ConcatDataset, RepeatDataset
from mmengine.registry import init_default_scope
from mmengine.runner import BaseLoop

import mmcsre  # noqa: F401
from mmcsre.engine.hooks import MemoryBankInitHook
from mmcsre.engine.hooks.memory_bank_init_hook import has_lazy_params

PIPELINE = [
    dict(type='SkeletonPreNormalize'),
    dict(type='SkeletonStreamFeature'),
    dict(type='UniformSampleFrames', clip_len=8),
    dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=1),
    dict(type='PackActionInputs', meta_keys=('frame_dir', 'sample_idx'))
]


class _Loop(BaseLoop):

    def __init__(self, dataset):
        self.dataloader = SimpleNamespace(dataset=dataset)

    def run(self):
        pass


def _model(**head):
    return MODELS.build(
        dict(
            type='MultiStreamRecognizer',
            backbone=dict(
                type='STGCN',
                graph_cfg=dict(layout='nturgb+d', mode='stgcn_spatial'),
                base_channels=8,
                num_stages=2,
                inflate_stages=[],
                down_stages=[],
                num_person=1),
            cls_head=dict(
                type='STFDHead', num_classes=10, in_channels=8, **head)))


def _runner(model, dataset):
    return SimpleNamespace(
        model=model,
        _train_loop=None if dataset is None else _Loop(dataset),
        logger=logging.getLogger('test'))


@pytest.fixture(scope='module')
def dataset():
    init_default_scope('mmaction')
    return DATASETS.build(
        dict(
            type='SyntheticSkeletonDataset',
            split='train',
            train_per_class=2,
            pipeline=PIPELINE))


def test_sizes_banks_and_builds_lazy_layers(dataset):
    model = _model()
    assert has_lazy_params(model)
    model.train()
    MemoryBankInitHook().before_run(_runner(model, dataset))
    assert not has_lazy_params(model)
    assert model.training
    for bank in model.cls_head.banks.values():
        assert bank.num_samples == len(dataset) == 20
        assert not bank.filled.any()  # the dry run wrote nothing
    spatial = model.cls_head.decompose.spatial.project
    assert spatial.in_features == 25 * 1  # V * C / r with C=8, r=8
    model.init_weights()  # works once the layers exist


def test_lazy_head_without_the_hook_is_a_clear_error():
    with pytest.raises(RuntimeError, match='MemoryBankInitHook'):
        _model().init_weights()


def test_repeat_dataset_gives_one_slot_per_underlying_sample(dataset):
    model = _model(num_joints=25, num_frames=8)
    repeated = RepeatDataset(dataset, times=3)
    MemoryBankInitHook().before_run(_runner(model, repeated))
    assert model.cls_head.banks.spatial.num_samples == len(dataset)


def test_mismatch_and_concat_are_errors(dataset):
    model = _model(
        num_joints=25,
        num_frames=8,
        memory_bank=dict(type='ContrastiveMemoryBank', num_samples=7))
    with pytest.raises(ValueError, match='7 slots .* 20 samples'):
        MemoryBankInitHook().before_run(_runner(model, dataset))
    with pytest.raises(TypeError, match='ConcatDataset'):
        MemoryBankInitHook().before_run(
            _runner(_model(), ConcatDataset([dataset, dataset])))


def test_test_only_run_is_left_alone():
    model = _model()
    MemoryBankInitHook().before_run(_runner(model, None))
    assert model.cls_head.banks.spatial.num_samples == 0


def test_indexed_repeat_dataset_gives_one_slot_per_repeated_index(dataset):
    # The official CSRE regime: times x N slots, labels tiled.
    model = _model(num_joints=25, num_frames=8)
    repeated = DATASETS.build(
        dict(type='IndexedRepeatDataset', dataset=dataset, times=3))
    MemoryBankInitHook().before_run(_runner(model, repeated))
    assert model.cls_head.banks.spatial.num_samples == 3 * len(dataset) == 60
    sample = repeated[len(dataset) + 5]['data_samples']
    assert sample.sample_idx == len(dataset) + 5
    assert sample.base_sample_idx == 5
    assert sample.frame_dir == dataset[5]['data_samples'].frame_dir


def test_indexed_repeat_dataset_needs_packed_samples():
    init_default_scope('mmaction')
    raw = DATASETS.build(
        dict(
            type='SyntheticSkeletonDataset',
            split='train',
            train_per_class=1,
            pipeline=[]))
    repeated = DATASETS.build(
        dict(type='IndexedRepeatDataset', dataset=raw, times=2))
    with pytest.raises(TypeError, match='PackActionInputs'):
        repeated[0]
