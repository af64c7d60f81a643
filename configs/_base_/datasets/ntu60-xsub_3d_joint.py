# NTU RGB+D 60 cross-subject, 3D joints, 64-frame clips (csre.txt Sec. 4.2).
# ann_file: tools/data/ntu/ntu_skeleton_to_pkl.py output or pyskl's
# ntu60_3danno.pkl. The pipeline yields joints; the model's
# SkeletonDataPreprocessor(stream=...) turns them into the chosen stream.
dataset_type = 'SkeletonDataset'
ann_file = 'data/skeleton/ntu60_3danno.pkl'
layout = 'nturgb+d'
num_classes = 60
clip_len = 64
meta_keys = ('frame_dir', 'sample_idx')

train_pipeline = [
    dict(type='SkeletonPreNormalize', layout=layout),
    dict(type='SkeletonStreamFeature', layout=layout, feats='j'),
    dict(type='UniformSampleFrames', clip_len=clip_len),
    dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=2),
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
    dict(type='FormatGCNInput', num_person=2),
    dict(type='PackActionInputs', meta_keys=meta_keys)
]
test_pipeline = val_pipeline

train_dataloader = dict(
    batch_size=64,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        ann_file=ann_file,
        split='xsub_train',
        num_classes=num_classes,
        layout=layout,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=64,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        ann_file=ann_file,
        split='xsub_val',
        num_classes=num_classes,
        layout=layout,
        pipeline=val_pipeline,
        test_mode=True))
test_dataloader = val_dataloader

val_evaluator = [dict(type='AccMetric')]
test_evaluator = val_evaluator
