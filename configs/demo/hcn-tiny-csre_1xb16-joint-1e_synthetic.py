# HCN + CSRE on the embedded synthetic dataset, one epoch: the smoke test of
# the tools with HCN. A narrow HCN (base_channels 32: 32-16-16-32-64-128)
# replaces the tiny ST-GCN; its conv6 map is 2 frames (32 / 16) x 1 cell.
# HCN's optimiser (Adam, lr 0.001, weight decay 1e-4), constant lr.
_base_ = '../_base_/demo_tiny_csre_synthetic.py'
model = dict(
    backbone=dict(
        _delete_=True,
        type='HCN',
        graph_cfg=dict(layout='nturgb+d', mode='spatial'),
        base_channels=32,
        num_person=1),
    cls_head=dict(in_channels=128, num_joints=1, num_frames=2))

param_scheduler = []
optim_wrapper = dict(
    optimizer=dict(_delete_=True, type='Adam', lr=0.001, weight_decay=1e-4))
