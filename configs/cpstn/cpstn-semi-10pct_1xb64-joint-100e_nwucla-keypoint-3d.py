# Semi-supervised evaluation of the CP-STN encoder pre-trained by
# cpstn_1xb64-joint-100e_nwucla-keypoint-3d.py (cp-stn.txt Sec. 4.2.2): a
# linear classifier attached to the pre-trained encoder and the whole
# network fine-tuned on a class-balanced 10 % of the NW-UCLA training labels
# (split train_10pct), tested on view 3. Recipe of Sec. 4.1.4 (Adam, lr 5e-5
# decaying to 0 over 100 epochs, batch 64, 200 frames) as for linear
# evaluation. The fractions pickle is made once with
#   python tools/data/make_label_fraction_split.py \
#       data/skeleton/nwucla_3d.pkl data/skeleton/nwucla_3d_fractions.pkl \
#       --fractions 1 5 10 20 30 40 50 --seed 0 --split train
# Other fractions: --cfg-options train_dataloader.dataset.split=train_1pct.
_base_ = [
    '../_base_/models/cpstn_finetune.py',
    '../_base_/datasets/nwucla_3d_joint.py',
    '../_base_/schedules/adam_100e_linear-to-zero_val.py',
    '../_base_/default_runtime.py'
]
load_from = 'work_dirs/cpstn_1xb64-joint-100e_nwucla-keypoint-3d/'
model = dict(
    data_preprocessor=dict(layout={{_base_.layout}}),
    backbone=dict(
        graph_cfg=dict(
            _delete_=True,
            layout={{_base_.graph_layout}},
            mode='stgcn_spatial')),
    cls_head=dict(num_classes=10))
ann_file = 'data/skeleton/nwucla_3d_fractions.pkl'
clip_len = 200
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
    batch_size=64,
    dataset=dict(
        ann_file=ann_file, split='train_10pct', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=64, dataset=dict(ann_file=ann_file, pipeline=val_pipeline))
test_dataloader = val_dataloader
