# CPU-budget variant of cpstn_1xb64-joint-100e_nwucla-keypoint-3d.py (about
# 4.7 s per iteration on 2 idle CPU cores, 15 x 15 iterations, ~18 min; see
# docs/cpstn.md): the encoder of stgcn-small (6 units, 32 base channels:
# 32-32-32-64-64-128, time stride 2 at units 4 and 6, fixed adjacency),
# 52-frame clips like the supervised NW-UCLA configs, five-unit decoders
# with 32 channels, 15 epochs. With only 225 iterations the paper's Adam lr
# 5e-5 barely moves the encoder, so this budget uses lr 1e-3, still decaying
# linearly to 0. Its
# backbone.* keys load into configs/stgcn/
# stgcn-small_1xb16-joint-30e_nwucla-keypoint-3d.py (whose edge-importance
# weights keep their initial 1).
_base_ = './cpstn_1xb64-joint-100e_nwucla-keypoint-3d.py'
model = dict(
    backbone=dict(base_channels=32),
    feat_channels=128,
    decoder=dict(hidden_channels=32))
clip_len = 52
train_pipeline = [
    dict(type='SkeletonPreNormalize', layout={{_base_.layout}}),
    dict(type='SkeletonStreamFeature', layout={{_base_.layout}}, feats='j'),
    dict(type='UniformSampleFrames', clip_len=clip_len),
    dict(type='PoseDecode'),
    dict(
        type='TwoViewSkeleton',
        spatial_pipeline={{_base_.spatial_pipeline}},
        temporal_pipeline={{_base_.temporal_pipeline}}),
    dict(type='FormatGCNInput', num_person=1),
    dict(
        type='PackActionInputs',
        meta_keys=('frame_dir', 'sample_idx', 'temporal_mask'))
]
train_dataloader = dict(num_workers=1, dataset=dict(pipeline=train_pipeline))
max_epochs = 15
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
