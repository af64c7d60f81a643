# STF-GCN with STF's L_d + L_c + L_Gk on Kinetics-skeleton 400 (see
# msg3d-k3_1xb32-joint-65e_kinetics400-skeleton-2d.py for data and recipe),
# trained from scratch. STF's own flow fine-tunes from the MS-G3D
# baseline: stfgcn-ft_1xb32-joint-65e_kinetics400-skeleton-2d.py.
_base_ = './msg3d-k3_1xb32-joint-65e_kinetics400-skeleton-2d.py'
model = dict(
    backbone=dict(use_stf=True),
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
