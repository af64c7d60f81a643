"""Paired arms: with the same seed, a model with training-only parts (CSRE's
STFDHead and bank, FR Head, the STF head) initialises its backbone and
classifier bit-identically to the baseline, and leaves the global random
streams where the baseline leaves them."""
import random

import numpy as np
import pytest
import torch
from mmaction.registry import MODELS
from mmengine.registry import init_default_scope

import mmcsre  # noqa: F401

NTU = dict(layout='nturgb+d', mode='stgcn_spatial')
BACKBONES = {
    'stgcn':
    dict(
        type='STGCN',
        graph_cfg=NTU,
        base_channels=8,
        num_stages=3,
        inflate_stages=[3],
        down_stages=[3],
        num_person=1),
    'ctrgcn':
    dict(
        type='CTRGCN',
        graph_cfg=dict(layout='nturgb+d', mode='spatial'),
        base_channels=8,
        num_stages=3,
        inflate_stages=[3],
        down_stages=[3],
        num_person=1),
}
CLIP_LEN = 8
GCN_HEAD = dict(type='GCNHead', num_classes=5, in_channels=16)


def method_parts(name):
    """The model keys a method adds to the baseline's."""
    if name == 'csre':
        return dict(
            cls_head=dict(
                type='STFDHead',
                num_classes=5,
                in_channels=16,
                num_joints=25,
                num_frames=CLIP_LEN // 2,
                memory_bank=dict(type='ContrastiveMemoryBank',
                                 num_samples=20)))
    if name == 'frhead':
        return dict(
            stage_taps=dict(stage1='gcn.0', stage3='gcn.2'),
            aux_heads=dict(
                fr=dict(
                    type='FRHead',
                    num_classes=5,
                    num_joints=25,
                    feat_dim=16,
                    stages=[
                        dict(
                            tap='stage1',
                            in_channels=8,
                            num_frames=CLIP_LEN,
                            weight=0.5),
                        dict(
                            tap='stage3',
                            in_channels=16,
                            num_frames=CLIP_LEN // 2,
                            weight=1.0)
                    ])))
    return dict(
        stage_taps=dict(prev=-2, last=-1),
        aux_heads=dict(
            stf=dict(
                type='SpatioTemporalFocusHead',
                losses=('divergence', 'coherence'))))


def build(backbone, method=None, seed=0):
    """Seed every generator as the runner does, build and initialise; also
    return the next draws of the global streams."""
    init_default_scope('mmaction')
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    cfg = dict(
        type='MultiStreamRecognizer',
        backbone=BACKBONES[backbone],
        cls_head=GCN_HEAD)
    if method:
        cfg.update(method_parts(method))
    model = MODELS.build(cfg)
    model.init_weights()
    after = (torch.rand(4), np.random.rand(4), random.random())
    return model, after


def shared_tensors(model):
    """Backbone and classifier tensors, by name (``fc`` in both heads)."""
    return {
        k: v
        for k, v in model.state_dict().items()
        if k.startswith('backbone.') or k.startswith('cls_head.fc.')
    }


@pytest.mark.parametrize('backbone', sorted(BACKBONES))
@pytest.mark.parametrize('method', ['csre', 'frhead', 'stf'])
def test_method_arm_is_paired_with_its_baseline(backbone, method):
    base, base_after = build(backbone)
    arm, arm_after = build(backbone, method)
    expected, got = shared_tensors(base), shared_tensors(arm)
    assert set(expected) == set(got) and len(expected) > 10
    assert 'cls_head.fc.weight' in got
    differ = [k for k in expected if not torch.equal(expected[k], got[k])]
    assert not differ, f'{method} changes the initialisation of {differ}'
    assert torch.equal(base_after[0], arm_after[0])
    assert np.array_equal(base_after[1], arm_after[1])
    assert base_after[2] == arm_after[2]


def test_seeds_still_differ():
    a = shared_tensors(build('stgcn', 'csre', seed=0)[0])
    b = shared_tensors(build('stgcn', 'csre', seed=1)[0])
    assert not torch.equal(a['cls_head.fc.weight'], b['cls_head.fc.weight'])
