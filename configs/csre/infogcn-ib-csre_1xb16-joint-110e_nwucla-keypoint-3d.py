# CSRE plus InfoGCN's information-bottleneck objective on NW-UCLA: the CSRE
# config (STFDHead, 13 x 20 feature map) plus the training-only
# InfoBottleneckHead of infogcn-ib_1xb16-joint-110e_nwucla-keypoint-3d.
_base_ = './infogcn-csre_1xb16-joint-110e_nwucla-keypoint-3d.py'
model = dict(
    aux_heads=dict(
        ib=dict(type='InfoBottleneckHead', num_classes=10, in_channels=256)))
