# CTR-GCN (Chen et al., ICCV 2021) at the paper's defaults: 10 units of
# 64-64-64-64-128-128-128-256-256-256 channels, temporal stride 2 at units 5
# and 8, three spatial subsets (identity, inward, outward), MVC data BN.
model = dict(
    type='RecognizerGCN',
    # Joint stream on the NTU layout; stream configs override `stream`,
    # datasets of other layouts override `layout`.
    data_preprocessor=dict(
        type='SkeletonDataPreprocessor', stream='j', layout='nturgb+d'),
    backbone=dict(
        type='CTRGCN',
        graph_cfg=dict(layout='nturgb+d', mode='spatial'),
        num_person=2),
    cls_head=dict(
        type='GCNHead', num_classes=60, in_channels=256, average_clips='prob'))
