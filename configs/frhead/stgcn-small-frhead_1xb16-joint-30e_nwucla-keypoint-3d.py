# FR Head on the CPU-budget ST-GCN for NW-UCLA (docs/results.md): the 6-stage
# ST-GCN (32-32-32-64-64-128 channels, temporal stride 2 at stages 4 and 6)
# is refined at its first, first strided and last (= second strided) stage,
# weighted like the paper's first, first strided and last stage (0.1, 0.2,
# 1; the paper's 0.5 stage coincides with the last here); w_cl 0.1.
_base_ = '../stgcn/stgcn-small_1xb16-joint-30e_nwucla-keypoint-3d.py'
model = dict(
    type='MultiStreamRecognizer',
    stage_taps=dict(stage1='gcn.0', stage4='gcn.3', stage6='gcn.5'),
    aux_heads=dict(
        frhead=dict(
            type='FRHead',
            num_classes=10,
            num_joints=20,
            stages=[
                dict(tap='stage1', in_channels=32, num_frames=52, weight=0.1),
                dict(tap='stage4', in_channels=64, num_frames=26, weight=0.2),
                dict(tap='stage6', in_channels=128, num_frames=13, weight=1.0)
            ])))
