# BlockGCN (Zhou et al., CVPR 2024) at the paper's defaults: 10 layers of
# 128 x 4 then 256 x 6 channels, temporal stride 2 at layers 5 and 8, 8
# BlockGC groups, 3 topologies per layer, 64 persistent-homology structure
# elements, M*V*C data BN after the joint embedding; plain GCNHead.
model = dict(
    type='RecognizerGCN',
    # Joint stream on the NTU layout; stream configs override `stream`,
    # datasets of other layouts override `layout`.
    data_preprocessor=dict(
        type='SkeletonDataPreprocessor', stream='j', layout='nturgb+d'),
    backbone=dict(
        type='BlockGCN',
        graph_cfg=dict(layout='nturgb+d', mode='spatial'),
        num_person=2),
    cls_head=dict(
        type='GCNHead', num_classes=60, in_channels=256, average_clips='prob'))
