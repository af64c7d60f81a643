# CPU-budget variant of stgcn_1xb16-joint-65e_nwucla-keypoint-3d.py, used for
# the CPU results in docs/results.md: a 6-stage ST-GCN with 32 base channels
# (32-32-32-64-64-128, temporal stride 2 at stages 4 and 6) trained for 30
# epochs (5 warm-up, lr x0.1 at 20 and 26). Everything else is the paper
# recipe (SGD Nesterov lr 0.1, wd 4e-4, batch 16, 52 frames).
_base_ = './stgcn_1xb16-joint-65e_nwucla-keypoint-3d.py'
model = dict(
    backbone=dict(
        base_channels=32,
        num_stages=6,
        inflate_stages=[4, 6],
        down_stages=[4, 6]),
    cls_head=dict(in_channels=128))
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
