# Semi-supervised evaluation on NTU-120 X-Sub (cp-stn.txt Sec. 4.2.2, Table
# 4) of the encoder pre-trained by
# cpstn_1xb256-joint-100e_ntu120-xsub-keypoint-3d.py: the whole network
# fine-tuned on a class-balanced 10 % of the training labels (split
# xsub_train_10pct). Recipe of Sec. 4.1.4: Adam, lr 5e-5 decaying to 0 over
# 100 epochs, batch 256, 200 frames. The fractions pickle is made once with
#   python tools/data/make_label_fraction_split.py \
#       data/skeleton/ntu120_3danno.pkl \
#       data/skeleton/ntu120_3danno_fractions.pkl \
#       --fractions 1 5 10 20 30 40 50 --seed 0 --split xsub_train
# Other fractions: --cfg-options train_dataloader.dataset.split=xsub_train_1pct
_base_ = [
    '../_base_/models/cpstn_finetune.py',
    '../_base_/datasets/ntu120-xsub_3d_joint.py',
    '../_base_/schedules/adam_100e_linear-to-zero_val.py',
    '../_base_/default_runtime.py'
]
load_from = 'work_dirs/cpstn_1xb256-joint-100e_ntu120-xsub-keypoint-3d/'
model = dict(cls_head=dict(num_classes=120))
ann_file = 'data/skeleton/ntu120_3danno_fractions.pkl'
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
train_dataloader = dict(
    batch_size=256,
    dataset=dict(
        ann_file=ann_file, split='xsub_train_10pct', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=256, dataset=dict(ann_file=ann_file, pipeline=val_pipeline))
test_dataloader = val_dataloader
