# Linear evaluation of the CP-STN encoder pre-trained by
# cpstn_1xb256-joint-100e_ntu60-xsub-keypoint-3d.py (cp-stn.txt Sec. 4.2.1,
# Table 2): encoder frozen, linear classifier trained on all NTU-60 X-Sub
# training labels. The paper's only recipe (Sec. 4.1.4): Adam, lr 5e-5
# decaying to 0 over 100 epochs, batch 256, 200-frame clips. load_from is the
# pre-training's last checkpoint: train that first or pass
# --cfg-options load_from=PATH (see docs/ssl_evaluation.md).
_base_ = [
    '../_base_/models/cpstn_linear.py',
    '../_base_/datasets/ntu60-xsub_3d_joint.py',
    '../_base_/schedules/adam_100e_linear-to-zero_val.py',
    '../_base_/default_runtime.py'
]
load_from = 'work_dirs/cpstn_1xb256-joint-100e_ntu60-xsub-keypoint-3d/'
model = dict(cls_head=dict(num_classes=60))
clip_len = 200
train_pipeline = [
    dict(type='SkeletonPreNormalize', layout={{_base_.layout}}),
    dict(type='SkeletonStreamFeature', layout={{_base_.layout}}, feats='j'),
    dict(type='UniformSampleFrames', clip_len=clip_len),
    dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=2),
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
    dict(type='FormatGCNInput', num_person=2),
    dict(type='PackActionInputs', meta_keys={{_base_.meta_keys}})
]
test_pipeline = val_pipeline
train_dataloader = dict(batch_size=256, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=256, dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader
