# mmaction2's stock AAGCN with attention off, i.e. 2s-AGCN (Shi et al.,
# CVPR 2019), the 2S-AGCN rows of the CSRE tables.
model = dict(
    type='RecognizerGCN',
    # Joint stream on the NTU layout; stream configs override `stream`,
    # datasets of other layouts override `layout`.
    data_preprocessor=dict(
        type='SkeletonDataPreprocessor', stream='j', layout='nturgb+d'),
    backbone=dict(
        type='AAGCN',
        graph_cfg=dict(layout='nturgb+d', mode='spatial'),
        gcn_attention=False),
    cls_head=dict(
        type='GCNHead', num_classes=60, in_channels=256, average_clips='prob'))
