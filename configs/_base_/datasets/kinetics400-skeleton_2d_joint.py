# Kinetics-skeleton 400 (ST-GCN's OpenPose release): 18 OpenPose joints,
# x y (divided by the 340 x 256 frame) + detector score, up to 2 persons,
# sequences repeated to T=300 frames as in STF (stf.md "Data preparation").
# ann_file: tools/data/kinetics/kinetics_to_pkl.py output (docs/datasets.md).
# The pipeline yields (x, y, score) joints; the model's
# SkeletonDataPreprocessor(stream=..., num_coords=2) makes the stream and
# averages the score over a bone's joints / a motion's frames.
#
# STF embeds visibility in the score channel on Kinetics. A separate 0/1
# visibility channel (its NTU variant) is one more transform before
# SkeletonStreamFeature, giving (x, y, visibility, score), and the backbone
# then takes 4 input channels:
#     dict(type='SkeletonPreNormalize', layout=layout),
#     dict(type='AddVisibilityChannel', score_thr=0.),
#     dict(type='SkeletonStreamFeature', layout=layout, feats='j'),
#     ...
#     model = dict(backbone=dict(in_channels=4))
_base_ = './ntu60-xsub_3d_joint.py'
ann_file = 'data/skeleton/kinetics400_2d.pkl'
layout = 'openpose'
num_classes = 400
num_person = 2
num_coords = 2
clip_len = 300
meta_keys = ('frame_dir', 'sample_idx')

train_pipeline = [
    dict(type='SkeletonPreNormalize', layout=layout),
    dict(type='SkeletonStreamFeature', layout=layout, feats='j'),
    dict(type='PadByRepetition', clip_len=clip_len),
    dict(type='UniformSampleFrames', clip_len=clip_len),
    dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=num_person),
    dict(type='PackActionInputs', meta_keys=meta_keys)
]
val_pipeline = [
    dict(type='SkeletonPreNormalize', layout=layout),
    dict(type='SkeletonStreamFeature', layout=layout, feats='j'),
    dict(type='PadByRepetition', clip_len=clip_len),
    dict(
        type='UniformSampleFrames',
        clip_len=clip_len,
        num_clips=1,
        test_mode=True),
    dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=num_person),
    dict(type='PackActionInputs', meta_keys=meta_keys)
]
test_pipeline = val_pipeline
train_dataloader = dict(
    dataset=dict(
        ann_file=ann_file,
        split='train',
        num_classes=num_classes,
        layout=layout,
        pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(
        ann_file=ann_file,
        split='val',
        num_classes=num_classes,
        layout=layout,
        pipeline=val_pipeline))
test_dataloader = val_dataloader
