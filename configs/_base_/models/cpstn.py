# CP-STN self-supervised pre-training (cp-stn.txt Sec. 3, 4.1.4): a 6-unit
# ST-GCN encoder with the fixed physical adjacency only (gcn_adaptive=None:
# no learnable or data-dependent graph, Sec. 3.3 / Table 5), two 5-unit
# st-gcn pretext decoders with feature dropout 0.2, a two-layer projection
# MLP and NT-Xent. Loss weights alpha = beta = gamma = 1 (Eq. 3). NTU layout;
# NW-UCLA configs replace the graph layouts.
graph_cfg = dict(layout='nturgb+d', mode='stgcn_spatial')
model = dict(
    type='CPSTN',
    data_preprocessor=dict(
        type='SkeletonDataPreprocessor', stream='j', layout='nturgb+d'),
    # 64-64-64-128-128-256 channels, time stride 2 at units 4 and 6.
    backbone=dict(
        type='STGCN',
        graph_cfg=graph_cfg,
        base_channels=64,
        num_stages=6,
        inflate_stages=[4, 6],
        down_stages=[4, 6],
        gcn_adaptive=None),
    feat_channels=256,
    decoder=dict(
        type='STGCNDecoder', graph_cfg=graph_cfg, num_units=5, dropout=0.2),
    proj_channels=128,
    # The paper gives no temperature; 0.1 is mmpretrain's SimCLR default.
    loss_contrastive=dict(type='NTXentLoss', temperature=0.1),
    alpha=1.0,
    beta=1.0,
    gamma=1.0)
