# Northwestern-UCLA, cross-view protocol (views 1, 2 train; view 3 test),
# 20 Kinect v1 joints, one person, 52-frame clips (csre.txt Sec. 4.2).
# ann_file: tools/data/nwucla/nwucla_to_pkl.py output. The pipeline yields
# joints; the model's SkeletonDataPreprocessor(stream=...) makes the stream.
_base_ = './ntu60-xsub_3d_joint.py'
ann_file = 'data/skeleton/nwucla_3d.pkl'
layout = 'nw-ucla'
num_classes = 10
clip_len = 52
meta_keys = ('frame_dir', 'sample_idx')
# mmaction2's Graph(layout=...) takes this dict (num_node, inward, center);
# configs pass it as graph_cfg=dict(layout={{_base_.graph_layout}}).
graph_layout = dict(
    num_node=20,
    inward=[(0, 1), (1, 2), (3, 2), (4, 2), (5, 4), (6, 5), (7, 6), (8, 2),
            (9, 8), (10, 9), (11, 10), (12, 0), (13, 12), (14, 13), (15, 14),
            (16, 0), (17, 16), (18, 17), (19, 18)],
    center=2)

train_pipeline = [
    dict(type='SkeletonPreNormalize', layout=layout),
    dict(type='SkeletonStreamFeature', layout=layout, feats='j'),
    dict(type='UniformSampleFrames', clip_len=clip_len),
    dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=1),
    dict(type='PackActionInputs', meta_keys=meta_keys)
]
val_pipeline = [
    dict(type='SkeletonPreNormalize', layout=layout),
    dict(type='SkeletonStreamFeature', layout=layout, feats='j'),
    dict(
        type='UniformSampleFrames',
        clip_len=clip_len,
        num_clips=1,
        test_mode=True),
    dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=1),
    dict(type='PackActionInputs', meta_keys=meta_keys)
]
test_pipeline = val_pipeline
train_dataloader = dict(
    batch_size=16,
    dataset=dict(
        ann_file=ann_file,
        split='train',
        num_classes=num_classes,
        layout=layout,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=16,
    dataset=dict(
        ann_file=ann_file,
        split='val',
        num_classes=num_classes,
        layout=layout,
        pipeline=val_pipeline))
test_dataloader = val_dataloader
