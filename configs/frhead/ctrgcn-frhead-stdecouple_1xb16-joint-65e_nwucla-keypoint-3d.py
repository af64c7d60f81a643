# FR Head ablation "+ ST Decouple" (fr-head.md Table 1): the calibrated
# contrastive loss on the last layer's spatial and temporal features, no
# multi-level refinement.
_base_ = '../ctrgcn/ctrgcn_1xb16-joint-65e_nwucla-keypoint-3d.py'
model = dict(
    type='MultiStreamRecognizer',
    stage_taps=dict(stage10='gcn.9'),
    aux_heads=dict(
        frhead=dict(
            type='FRHead',
            num_classes=10,
            num_joints=20,
            stages=[
                dict(
                    tap='stage10', in_channels=256, num_frames=13, weight=1.0)
            ])))
