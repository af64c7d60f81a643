# STF-GCN (stf.md): MS-G3D's factorised pathway (3 blocks of 96-192-384
# channels, temporal stride 2 at blocks 2 and 3, K = 3 disentangled
# adjacency scales) with the STF modules' instance-dependent adjacency
# G_k = alpha(beta(X)) in every GCN; MVC data BN; GCNHead classifier.
# The MS-G3D baseline configs set backbone.use_stf=False and drop the STF
# losses.
model = dict(
    type='MultiStreamRecognizer',
    # Joint stream on the NTU layout; stream configs override `stream`,
    # datasets of other layouts override `layout`.
    data_preprocessor=dict(
        type='SkeletonDataPreprocessor', stream='j', layout='nturgb+d'),
    backbone=dict(
        type='STFGCN',
        graph_cfg=dict(layout='nturgb+d', mode='spatial'),
        num_person=2,
        use_stf=True),
    cls_head=dict(
        type='GCNHead', num_classes=60, in_channels=384, average_clips='prob'),
    # STF's L_d + L_c + L_Gk (stf.md Eq. 4-5, L_Gk): the Grad-CAM focus of
    # the last stage supervises the STF embeddings beta(X) of every stage.
    # L_e trains in its own model (stfgcn-ft-e_*); the MS-G3D baseline
    # (msg3d-k3_*) sets use_stf=False, stage_taps=None, aux_heads=None.
    stage_taps=dict(
        prev=-2,
        last=-1,
        embed0='stages.0.gcn.stf_embed',
        embed1='stages.1.gcn.stf_embed',
        embed2='stages.2.gcn.stf_embed'),
    aux_heads=dict(
        stf=dict(
            type='SpatioTemporalFocusHead',
            losses=('divergence', 'coherence', 'adjacency'),
            embedding_taps=('embed0', 'embed1', 'embed2'))))
