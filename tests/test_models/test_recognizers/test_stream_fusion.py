"""MultiStreamRecognizer: stage taps by index and the fused mode."""
import pytest
import torch
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmengine.registry import init_default_scope

import mmcsre  # noqa: F401
from mmcsre.evaluation.fusion import FusionError, to_space

BACKBONE = dict(
    type='STGCN',
    graph_cfg=dict(layout='nturgb+d', mode='stgcn_spatial'),
    base_channels=8,
    num_stages=4,
    inflate_stages=[3],
    down_stages=[3],
    num_person=1)


def stream_model(stream, average_clips='prob'):
    return dict(
        type='RecognizerGCN',
        data_preprocessor=dict(
            type='SkeletonDataPreprocessor', stream=stream, layout='nturgb+d'),
        backbone=BACKBONE,
        cls_head=dict(
            type='GCNHead',
            num_classes=5,
            in_channels=16,
            average_clips=average_clips))


@pytest.fixture(autouse=True)
def _scope():
    init_default_scope('mmaction')
    torch.manual_seed(0)


def test_stage_taps_by_index_resolve_to_stgcn_blocks():
    model = MODELS.build(
        dict(
            type='MultiStreamRecognizer',
            backbone=BACKBONE,
            cls_head=dict(type='GCNHead', num_classes=5, in_channels=16),
            stage_taps=dict(first=0, mid='gcn.2', last=-1)))
    assert model.stage_taps == dict(first='gcn.0', mid='gcn.2', last='gcn.3')
    with pytest.raises(KeyError, match='out of range'):
        MODELS.build(
            dict(
                type='MultiStreamRecognizer',
                backbone=BACKBONE,
                cls_head=dict(type='GCNHead', num_classes=5, in_channels=16),
                stage_taps=dict(bad=4)))


@pytest.mark.parametrize('space', ['prob', 'logit'])
def test_fused_mode_is_the_weighted_sum_of_stream_scores(tmp_path, space):
    streams = dict(j=stream_model('j'), b=stream_model('b', 'score'))
    ckpts = {}
    singles = {}
    for name, cfg in streams.items():
        model = MODELS.build(cfg).eval()
        ckpts[name] = str(tmp_path / f'{name}.pth')
        torch.save(dict(state_dict=model.state_dict()), ckpts[name])
        singles[name] = model
    fused = MODELS.build(
        dict(
            type='MultiStreamRecognizer',
            fusion_space=space,
            streams=[
                dict(
                    name='j',
                    config=streams['j'],
                    checkpoint=ckpts['j'],
                    weight=2.0),
                dict(
                    name='b',
                    config=streams['b'],
                    checkpoint=ckpts['b'],
                    weight=1.0)
            ])).eval()
    joints = [torch.randn(1, 1, 12, 25, 3) for _ in range(3)]
    expected = 0
    for name, weight in (('j', 2.0), ('b', 1.0)):
        model = singles[name]
        data = model.data_preprocessor(
            dict(
                inputs=list(joints),
                data_samples=[ActionDataSample() for _ in joints]))
        with torch.no_grad():
            out = model.predict(data['inputs'], data['data_samples'])
        scores = torch.stack([s.pred_scores.item for s in out]).numpy()
        src = 'prob' if name == 'j' else 'logit'
        expected = expected + weight * to_space(scores, src, space)
    data = fused.data_preprocessor(
        dict(
            inputs=list(joints),
            data_samples=[ActionDataSample() for _ in joints]))
    with torch.no_grad():
        out = fused.predict(data['inputs'], data['data_samples'])
    got = torch.stack([s.pred_scores.item for s in out]).numpy()
    assert got == pytest.approx(expected, abs=1e-6)
    assert [int(s.pred_labels.item) for s in out] == \
        expected.argmax(1).tolist()


def test_fused_mode_drops_training_only_parts_of_csre_streams(tmp_path):
    csre = dict(
        type='MultiStreamRecognizer',
        data_preprocessor=dict(type='SkeletonDataPreprocessor', stream='j'),
        backbone=BACKBONE,
        cls_head=dict(
            type='STFDHead',
            num_classes=5,
            in_channels=16,
            num_joints=25,
            num_frames=6))
    model = MODELS.build(csre)
    torch.save(dict(state_dict=model.state_dict()), tmp_path / 'c.pth')
    fused = MODELS.build(
        dict(
            type='MultiStreamRecognizer',
            streams=[
                dict(
                    name='j', config=csre, checkpoint=str(tmp_path / 'c.pth'))
            ]))
    stream = fused.fusion.streams['j']
    assert type(stream.cls_head).__name__ == 'GCNHead'
    assert torch.equal(stream.cls_head.fc.weight, model.cls_head.fc.weight)


def test_fused_mode_errors():
    with pytest.raises(ValueError, match='takes no backbone'):
        MODELS.build(
            dict(
                type='MultiStreamRecognizer',
                backbone=BACKBONE,
                streams=[dict(name='j', config=stream_model('j'))]))
    with pytest.raises(FusionError, match='names repeat'):
        MODELS.build(
            dict(
                type='MultiStreamRecognizer',
                streams=[
                    dict(name='j', config=stream_model('j')),
                    dict(name='j', config=stream_model('b'))
                ]))
    fused = MODELS.build(
        dict(
            type='MultiStreamRecognizer',
            streams=[dict(name='j', config=stream_model('j'))]))
    with pytest.raises(RuntimeError, match='only tests'):
        fused.loss(torch.zeros(1, 1, 1, 8, 25, 3), [ActionDataSample()])
