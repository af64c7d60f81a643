# STF ablation M3 (stf.md Table 5, NTU-60 xsub, joint): the MS-G3D-style
# baseline (no STF modules) fine-tuned with L_c + L_d, like
# stfgcn-ft_1xb32-joint-50e_ntu60-xsub-keypoint-3d.py (lr 1e-3 from the
# baseline checkpoint). See msg3d-k3-ft-c_* for the other ablations.
_base_ = './stfgcn-ft_1xb32-joint-50e_ntu60-xsub-keypoint-3d.py'
# Restated so each generated stream child starts from its own stream.
load_from = 'work_dirs/msg3d-k3_1xb32-joint-50e_ntu60-xsub-keypoint-3d/'
model = dict(
    backbone=dict(use_stf=False),
    stage_taps=dict(_delete_=True, prev=-2, last=-1),
    aux_heads=dict(
        stf=dict(losses=('divergence', 'coherence'), embedding_taps=())))
