# A narrow, shallow Hyperformer with the CSRE head on the embedded synthetic
# dataset, one epoch: the end-to-end smoke test of the backbone. Three
# layers of 24 channels (2 heads), the last with stride 2, so the 32-frame
# clip gives a 16 x 25 feature map.
_base_ = '../_base_/demo_tiny_csre_synthetic.py'
model = dict(
    backbone=dict(
        _delete_=True,
        type='Hyperformer',
        graph_cfg=dict(layout='nturgb+d', mode='spatial'),
        num_person=1,
        embed_dims=24,
        num_heads=2,
        num_layers=3,
        down_layers=(3, )),
    cls_head=dict(in_channels=24, num_joints=25, num_frames=16))
