# FR Head on the demo: the baseline demo config plus FR Head as an auxiliary
# head. The tiny 4-stage ST-GCN (16-16-32-32 channels, temporal stride 2 at
# stage 3) is refined at its first, strided and last stage, weighted like
# the paper's first, first strided and last stage (fr-head.md Sec. 4.2).
_base_ = './stgcn-tiny_1xb16-joint-15e_synthetic.py'
model = dict(
    type='MultiStreamRecognizer',
    stage_taps=dict(stage1='gcn.0', stage3='gcn.2', stage4='gcn.3'),
    aux_heads=dict(
        frhead=dict(
            type='FRHead',
            num_classes=10,
            num_joints=25,
            stages=[
                dict(tap='stage1', in_channels=16, num_frames=32, weight=0.1),
                dict(tap='stage3', in_channels=32, num_frames=16, weight=0.2),
                dict(tap='stage4', in_channels=32, num_frames=16, weight=1.0)
            ])))
