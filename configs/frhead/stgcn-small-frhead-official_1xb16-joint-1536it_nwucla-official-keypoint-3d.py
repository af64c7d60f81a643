# FR Head with the official code's calibration (every anchor calibrated,
# calibrate_all=True; docs/frhead.md), paired-sweep arm. Stages and weights
# as stgcn-small-frhead_1xb16-joint-30e_nwucla-keypoint-3d.py.
_base_ = '../stgcn/stgcn-small_1xb16-joint-1536it_nwucla-official-keypoint-3d.py'
model = dict(
    type='MultiStreamRecognizer',
    stage_taps=dict(stage1='gcn.0', stage4='gcn.3', stage6='gcn.5'),
    aux_heads=dict(
        frhead=dict(
            type='FRHead',
            num_classes=10,
            num_joints=20,
            calibrate_all=True,
            stages=[
                dict(tap='stage1', in_channels=32, num_frames=52, weight=0.1),
                dict(tap='stage4', in_channels=64, num_frames=26, weight=0.2),
                dict(tap='stage6', in_channels=128, num_frames=13, weight=1.0)
            ])))
