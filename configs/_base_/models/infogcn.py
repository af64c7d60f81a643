# InfoGCN (Chi et al., CVPR 2022) encoder at the paper's defaults: joint
# embedding to 64 channels, 9 encoding blocks (3-head SA-GC + multi-scale
# TCN) of 64-64-64-128-128-128-256-256-256 channels with temporal stride 2
# at blocks 4 and 7, M*V*C data BN; plain GCNHead classifier. The paper's
# information-bottleneck objective is the optional InfoBottleneckHead
# (configs/infogcn/infogcn-ib_*).
model = dict(
    type='RecognizerGCN',
    # Joint stream on the NTU layout; stream configs override `stream`,
    # datasets of other layouts override `layout`.
    data_preprocessor=dict(
        type='SkeletonDataPreprocessor', stream='j', layout='nturgb+d'),
    backbone=dict(
        type='InfoGCN',
        graph_cfg=dict(layout='nturgb+d', mode='spatial'),
        num_person=2),
    cls_head=dict(
        type='GCNHead', num_classes=60, in_channels=256, average_clips='prob'))
