# FR Head on the ST-GCN baseline (stgcn_1xb64-joint-65e_ntu120-xset-keypoint-3d):
# the paper's four refined stages of a 10-layer GCN (layers 1, 5, 8, 10;
# lambda 0.1, 0.2, 0.5, 1; w_cl 0.1; fr-head.md Sec. 3.2, 4.2), spatial and
# temporal branches, 64-frame clips. The classifier stays GCNHead.
_base_ = '../stgcn/stgcn_1xb64-joint-65e_ntu120-xset-keypoint-3d.py'
model = dict(
    type='MultiStreamRecognizer',
    stage_taps=dict(
        stage1='gcn.0', stage5='gcn.4', stage8='gcn.7', stage10='gcn.9'),
    aux_heads=dict(
        frhead=dict(
            type='FRHead', num_classes=120, num_joints=25, clip_len=64)))
