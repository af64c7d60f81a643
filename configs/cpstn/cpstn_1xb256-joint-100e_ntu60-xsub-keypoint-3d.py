# CP-STN self-supervised pre-training on NTU RGB+D 60 cross-subject (training
# split, labels unused): 200-frame clips, batch 256, Adam lr 5e-5 decaying
# linearly to 0 over 100 epochs (cp-stn.txt Sec. 4.1.4). Each sample yields
# the original clip, a spatial view (rotation, shear, joint jitter) and a
# temporal view (first half of the frames kept), see docs/cpstn.md.
_base_ = [
    '../_base_/models/cpstn.py', '../_base_/datasets/ntu60-xsub_3d_joint.py',
    '../_base_/schedules/adam_100e_linear-to-zero.py',
    '../_base_/default_runtime.py'
]
clip_len = 200
num_person = 2
spatial_pipeline = [
    dict(type='RandomRotation3D', max_angle=3.141592653589793 / 6),
    dict(type='RandomShear', magnitude=1.0),
    dict(type='RandomJointJitter', prob=0.2, sigma=0.01)
]
temporal_pipeline = [dict(type='TemporalMaskTail', keep_ratio=0.5)]
train_pipeline = [
    dict(type='SkeletonPreNormalize', layout={{_base_.layout}}),
    dict(type='SkeletonStreamFeature', layout={{_base_.layout}}, feats='j'),
    dict(type='UniformSampleFrames', clip_len=clip_len),
    dict(type='PoseDecode'),
    dict(
        type='TwoViewSkeleton',
        spatial_pipeline=spatial_pipeline,
        temporal_pipeline=temporal_pipeline),
    dict(type='FormatGCNInput', num_person=num_person),
    dict(
        type='PackActionInputs',
        meta_keys=('frame_dir', 'sample_idx', 'temporal_mask'))
]
train_dataloader = dict(
    batch_size=256, drop_last=True, dataset=dict(pipeline=train_pipeline))
# Pre-training only: evaluate the encoder with the evaluation protocols.
val_dataloader = None
val_evaluator = None
test_dataloader = None
test_evaluator = None
default_hooks = dict(checkpoint=dict(save_best=None))
