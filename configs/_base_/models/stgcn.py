# mmaction2's stock ST-GCN with the plain GCN classification head.
model = dict(
    type='RecognizerGCN',
    # Joint stream on the NTU layout; stream configs override `stream`,
    # datasets of other layouts override `layout`.
    data_preprocessor=dict(
        type='SkeletonDataPreprocessor', stream='j', layout='nturgb+d'),
    backbone=dict(
        type='STGCN', graph_cfg=dict(layout='nturgb+d', mode='stgcn_spatial')),
    cls_head=dict(
        type='GCNHead', num_classes=60, in_channels=256, average_clips='prob'))
