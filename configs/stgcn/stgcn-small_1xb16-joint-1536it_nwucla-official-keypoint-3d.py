# Paired-sweep baseline (docs/results.md, "Paired seeds"): the CPU-budget
# ST-GCN (6 stages, 32-32-32-64-64-128 channels, temporal stride 2 at stages
# 4 and 6) on NW-UCLA prepared as the official CTR-GCN / CSRE code does
# (augmentation, sorted resampling, training list x5), 1,536 iterations of
# batch 16 evaluated every 64. The CSRE and FR Head arms of the sweep
# inherit this file and change only their head, bank and dataset wrapper.
_base_ = [
    '../_base_/models/stgcn.py',
    '../_base_/datasets/nwucla_3d_joint_official.py',
    '../_base_/schedules/sgd_nesterov_1536it_warmup192_step1024-1216_val64.py',
    '../_base_/default_runtime.py'
]
model = dict(
    data_preprocessor=dict(layout={{_base_.layout}}),
    backbone=dict(
        graph_cfg=dict(
            _delete_=True,
            layout={{_base_.graph_layout}},
            mode='stgcn_spatial'),
        base_channels=32,
        num_stages=6,
        inflate_stages=[4, 6],
        down_stages=[4, 6]),
    cls_head=dict(num_classes=10, in_channels=128))
train_dataloader = dict(
    num_workers=1, sampler=dict(type='InfiniteSampler', shuffle=True))
val_dataloader = dict(num_workers=1)
test_dataloader = val_dataloader
default_hooks = dict(
    logger=dict(interval=64),
    checkpoint=dict(
        by_epoch=False,
        interval={{_base_.val_interval}},
        save_best=None,
        max_keep_ckpts=2))
log_processor = dict(by_epoch=False)
