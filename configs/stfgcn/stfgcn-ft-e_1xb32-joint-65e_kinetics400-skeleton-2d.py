# STF's exploration model (L_e, stf.md Eq. 3, lambda 0.01): STF-GCN
# fine-tuned from the MS-G3D baseline like stfgcn-ft_1xb32-joint-65e_kinetics400-skeleton-2d,
# with L_e alone. As in the paper it trains apart from the L_d + L_c + L_Gk
# model (stfgcn-ft_1xb32-joint-65e_kinetics400-skeleton-2d) and the two are ensembled at test
# time (tools/ensemble.py); that ensemble is STF (Table 5, M5).
_base_ = './stfgcn-ft_1xb32-joint-65e_kinetics400-skeleton-2d.py'
# Restated so each generated stream child starts from its own stream.
load_from = 'work_dirs/msg3d-k3_1xb32-joint-65e_kinetics400-skeleton-2d/'
model = dict(
    stage_taps=dict(_delete_=True, last=-1),
    aux_heads=dict(stf=dict(losses=('exploration', ), embedding_taps=())))
