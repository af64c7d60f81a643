# The embedded synthetic dataset (mmcsre.datasets.synthetic): 10 actions on
# the NTU RGB+D layout, generated in memory; no download.
dataset_type = 'SyntheticSkeletonDataset'
layout = 'nturgb+d'
num_classes = 10
clip_len = 32
meta_keys = ('frame_dir', 'sample_idx')
synthetic_cfg = dict(
    num_classes=num_classes, train_per_class=40, val_per_class=20, seed=0)

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
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        split='train',
        pipeline=train_pipeline,
        **synthetic_cfg))
val_dataloader = dict(
    batch_size=32,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        split='val',
        pipeline=val_pipeline,
        test_mode=True,
        **synthetic_cfg))
test_dataloader = val_dataloader

val_evaluator = [dict(type='AccMetric')]
test_evaluator = val_evaluator
