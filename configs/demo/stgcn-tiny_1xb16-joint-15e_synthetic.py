# The README's main job: a small ST-GCN trained and evaluated on the embedded
# synthetic dataset, no download, a few minutes on 2 CPU cores.
_base_ = [
    '../_base_/models/stgcn.py', '../_base_/datasets/synthetic_joint.py',
    '../_base_/default_runtime.py'
]

model = dict(
    backbone=dict(
        base_channels=16,
        num_stages=4,
        inflate_stages=[3],
        down_stages=[3],
        num_person=1),
    cls_head=dict(num_classes=10, in_channels=32))

max_epochs = 15
train_cfg = dict(
    type='EpochBasedTrainLoop',
    max_epochs=max_epochs,
    val_begin=5,
    val_interval=5)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.2,
        by_epoch=True,
        begin=0,
        end=2,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        by_epoch=True,
        begin=0,
        end=max_epochs,
        T_max=max_epochs,
        convert_to_iter_based=True)
]
optim_wrapper = dict(
    optimizer=dict(
        type='SGD', lr=0.1, momentum=0.9, weight_decay=5e-4, nesterov=True))

default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=5, save_best='acc/top1', rule='greater'))
