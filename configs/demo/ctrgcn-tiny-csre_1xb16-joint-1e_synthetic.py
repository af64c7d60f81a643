# A narrow, shallow CTR-GCN + CSRE on the embedded synthetic dataset for one
# epoch (the end-to-end tools test). Four units of 16-16-32-32 channels, one
# temporal stride: the 32-frame clips give a 16 x 25 feature map, as the
# tiny ST-GCN this config inherits from.
_base_ = '../_base_/demo_tiny_csre_synthetic.py'
model = dict(
    backbone=dict(
        _delete_=True,
        type='CTRGCN',
        graph_cfg=dict(layout='nturgb+d', mode='spatial'),
        base_channels=16,
        num_stages=4,
        inflate_stages=[3],
        down_stages=[3],
        num_person=1),
    cls_head=dict(in_channels=32, num_joints=25, num_frames=16))
