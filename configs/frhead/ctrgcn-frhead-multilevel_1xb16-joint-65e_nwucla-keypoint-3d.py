# FR Head ablation "+ ML Refine" (fr-head.md Table 1): the calibrated
# contrastive loss on the globally pooled features of the paper's four
# stages (layers 1, 5, 8, 10; lambda 0.1, 0.2, 0.5, 1), no decoupling.
_base_ = '../ctrgcn/ctrgcn_1xb16-joint-65e_nwucla-keypoint-3d.py'
model = dict(
    type='MultiStreamRecognizer',
    stage_taps=dict(
        stage1='gcn.0', stage5='gcn.4', stage8='gcn.7', stage10='gcn.9'),
    aux_heads=dict(
        frhead=dict(
            type='FRHead',
            num_classes=10,
            num_joints=20,
            clip_len=52,
            branches=('global', ))))
