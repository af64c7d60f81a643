# CPU-budget variant of cpstn-semi-10pct_1xb64-joint-100e_nwucla-keypoint-3d.py
# for the encoder of cpstn-small_1xb64-joint-15e_nwucla-keypoint-3d.py (6
# units, 32 base channels, fixed adjacency) on 52-frame clips: the whole
# network fine-tuned on train_10pct (102 clips) with batch 16 (7 iterations
# per epoch instead of 2) for 100 epochs, Adam lr 5e-4 decaying linearly to
# 0, validation every 10 epochs (see docs/ssl_evaluation.md for the timing
# on 2 CPU cores).
_base_ = './cpstn-semi-10pct_1xb64-joint-100e_nwucla-keypoint-3d.py'
load_from = 'work_dirs/cpstn-small_1xb64-joint-15e_nwucla-keypoint-3d/'
model = dict(backbone=dict(base_channels=32), cls_head=dict(in_channels=128))
clip_len = 52
train_pipeline = [
    dict(type='SkeletonPreNormalize', layout={{_base_.layout}}),
    dict(type='SkeletonStreamFeature', layout={{_base_.layout}}, feats='j'),
    dict(type='UniformSampleFrames', clip_len=clip_len),
    dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=1),
    dict(type='PackActionInputs', meta_keys={{_base_.meta_keys}})
]
val_pipeline = [
    dict(type='SkeletonPreNormalize', layout={{_base_.layout}}),
    dict(type='SkeletonStreamFeature', layout={{_base_.layout}}, feats='j'),
    dict(
        type='UniformSampleFrames',
        clip_len=clip_len,
        num_clips=1,
        test_mode=True),
    dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=1),
    dict(type='PackActionInputs', meta_keys={{_base_.meta_keys}})
]
test_pipeline = val_pipeline
train_dataloader = dict(
    batch_size=16, num_workers=1, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(num_workers=1, dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader
train_cfg = dict(val_interval=10)
default_hooks = dict(checkpoint=dict(interval=10))
optim_wrapper = dict(optimizer=dict(lr=5e-4))
