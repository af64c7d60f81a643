# CPU-budget variant of ctrgcn_1xb16-joint-65e_nwucla-keypoint-3d.py, used for
# the CPU results in docs/results.md, on the same budget as the ST-GCN ones
# (stgcn-small_1xb16-joint-30e_nwucla-keypoint-3d.py): 6 CTR-GCN units with
# 32 base channels (32-32-32-64-64-128, temporal stride 2 at units 4 and 6),
# 30 epochs (5 warm-up, lr x0.1 at 20 and 26), SGD Nesterov lr 0.1, wd 4e-4,
# batch 16, 52 frames, the training set seen once per epoch (no repeat).
_base_ = [
    '../_base_/models/ctrgcn.py', '../_base_/datasets/nwucla_3d_joint.py',
    '../_base_/schedules/sgd_nesterov_65e_warmup5.py',
    '../_base_/default_runtime.py'
]
model = dict(
    data_preprocessor=dict(layout={{_base_.layout}}),
    backbone=dict(
        graph_cfg=dict(
            _delete_=True, layout={{_base_.graph_layout}}, mode='spatial'),
        num_person=1,
        base_channels=32,
        num_stages=6,
        inflate_stages=[4, 6],
        down_stages=[4, 6]),
    cls_head=dict(num_classes=10, in_channels=128))
max_epochs = 30
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.2,
        by_epoch=True,
        begin=0,
        end=5,
        convert_to_iter_based=True),
    dict(
        type='MultiStepLR',
        by_epoch=True,
        begin=0,
        end=max_epochs,
        milestones=[20, 26],
        gamma=0.1)
]
train_dataloader = dict(num_workers=1)
val_dataloader = dict(num_workers=1)
test_dataloader = val_dataloader
