# Hyperformer (Zhou et al., arXiv 2211.09590) at the official defaults
# (github.com/ZhouYuxuanYX/Hyperformer model/Hyperformer.py: 10 layers,
# 9 heads x 24 = 216 channels, stride 2 at layers 5 and 8) with the plain
# GCN classification head (the official linear classifier, no dropout).
model = dict(
    type='RecognizerGCN',
    # Joint stream on the NTU layout; stream configs override `stream`,
    # datasets of other layouts override `layout`.
    data_preprocessor=dict(
        type='SkeletonDataPreprocessor', stream='j', layout='nturgb+d'),
    backbone=dict(
        type='Hyperformer',
        graph_cfg=dict(layout='nturgb+d', mode='spatial'),
        in_channels=3,
        num_person=2,
        embed_dims=216,
        num_heads=9,
        num_layers=10,
        down_layers=(5, 8)),
    cls_head=dict(
        type='GCNHead', num_classes=60, in_channels=216, average_clips='prob'))
