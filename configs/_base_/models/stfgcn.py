# STF-GCN (stf.md): MS-G3D's factorised pathway (3 blocks of 96-192-384
# channels, temporal stride 2 at blocks 2 and 3, K = 3 disentangled
# adjacency scales) with the STF modules' instance-dependent adjacency
# G_k = alpha(beta(X)) in every GCN; MVC data BN; GCNHead classifier.
# The MS-G3D baseline configs set backbone.use_stf=False.
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
    # ---- STF losses (L_e, L_d, L_c, L_Gk): wired in separately. ----------
    # They go here as `aux_heads` plus `stage_taps` on the beta embeddings
    # (STFGCN.stf_embedding_names: 'stages.{0,1,2}.gcn.stf_embed') and the
    # last stage (-1) for the Grad-CAM focus Q.
)
