# CPU-budget variant of cpstn-linear_1xb64-joint-100e_nwucla-keypoint-3d.py
# for the encoder of cpstn-small_1xb64-joint-15e_nwucla-keypoint-3d.py (6
# units, 32 base channels: 32-32-32-64-64-128, time stride 2 at units 4 and
# 6, fixed adjacency) on 52-frame clips. Only the linear classifier trains,
# so the paper's lr 5e-5 x 100 epochs is replaced by 30 epochs of Adam at
# lr 1e-3 decaying linearly to 0 (see docs/ssl_evaluation.md for the
# timing on 2 CPU cores).
_base_ = './cpstn-linear_1xb64-joint-100e_nwucla-keypoint-3d.py'
load_from = 'work_dirs/cpstn-small_1xb64-joint-15e_nwucla-keypoint-3d/'
model = dict(
    backbone=dict(backbone=dict(base_channels=32)),
    cls_head=dict(in_channels=128))
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
train_dataloader = dict(num_workers=1, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(num_workers=1, dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader
max_epochs = 30
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [
    dict(
        type='PolyLR',
        power=1.0,
        eta_min=0.0,
        by_epoch=True,
        begin=0,
        end=max_epochs,
        convert_to_iter_based=True)
]
optim_wrapper = dict(optimizer=dict(lr=1e-3))
