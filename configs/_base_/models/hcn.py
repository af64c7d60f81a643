# HCN (Li et al., IJCAI 2018) as a convolutional encoder: the paper's point
# and motion streams, transpose (joints -> channels) and co-occurrence
# convolutions conv1-conv6 (64-32-32-64-128-256); GCNHead pools the conv6
# map (N, M, 256, T/16, 2) and classifies. HCN(with_fc7=True) is the paper's
# exact network (person max + fc7); the configs keep the encoder form so
# that the baseline and CSRE share one encoder whose output keeps a time
# axis (see the HCN docstring in mmcsre/models/backbones/hcn.py).
model = dict(
    type='RecognizerGCN',
    # Joint stream on the NTU layout; stream configs override `stream`,
    # datasets of other layouts override `layout`.
    data_preprocessor=dict(
        type='SkeletonDataPreprocessor', stream='j', layout='nturgb+d'),
    backbone=dict(
        type='HCN', graph_cfg=dict(layout='nturgb+d', mode='spatial')),
    cls_head=dict(
        type='GCNHead', num_classes=60, in_channels=256, average_clips='prob'))
