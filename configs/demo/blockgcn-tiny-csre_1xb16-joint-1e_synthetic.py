# A narrow, shallow BlockGCN + CSRE on the embedded synthetic dataset for one
# epoch (the end-to-end tools test). Four layers of 16-16-32-32 channels,
# one temporal stride: the 32-frame clips give a 16 x 25 feature map, as the
# tiny ST-GCN this config inherits from.
_base_ = '../csre/stgcn-tiny-csre_1xb16-joint-15e_synthetic.py'
model = dict(
    backbone=dict(
        _delete_=True,
        type='BlockGCN',
        graph_cfg=dict(layout='nturgb+d', mode='spatial'),
        base_channels=16,
        num_stages=4,
        inflate_stages=[3],
        down_stages=[3],
        num_person=1,
        num_elements=16),
    cls_head=dict(in_channels=32, num_joints=25, num_frames=16))

max_epochs = 1
train_cfg = dict(max_epochs=max_epochs, val_begin=1, val_interval=1)
param_scheduler = [
    dict(
        type='CosineAnnealingLR',
        by_epoch=True,
        begin=0,
        end=max_epochs,
        T_max=max_epochs,
        convert_to_iter_based=True)
]
default_hooks = dict(checkpoint=dict(interval=1))
