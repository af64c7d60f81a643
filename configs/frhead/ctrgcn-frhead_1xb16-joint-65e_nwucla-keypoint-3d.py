# FR Head on the CTR-GCN baseline (ctrgcn_1xb16-joint-65e_nwucla-keypoint-3d),
# the paper's main setting: the four refined stages of the 10-unit CTR-GCN
# (units 1, 5, 8, 10; lambda 0.1, 0.2, 0.5, 1; w_cl 0.1; fr-head.md Sec. 3.2,
# 4.2), spatial and temporal branches, 52-frame clips. The classifier stays
# GCNHead.
_base_ = '../ctrgcn/ctrgcn_1xb16-joint-65e_nwucla-keypoint-3d.py'
model = dict(
    type='MultiStreamRecognizer',
    stage_taps=dict(
        stage1='gcn.0', stage5='gcn.4', stage8='gcn.7', stage10='gcn.9'),
    aux_heads=dict(
        frhead=dict(type='FRHead', num_classes=10, num_joints=20,
                    clip_len=52)))
