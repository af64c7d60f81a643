# CSRE on the CPU-budget ST-GCN for NW-UCLA (docs/results.md).
_base_ = '../stgcn/stgcn-small_1xb16-joint-30e_nwucla-keypoint-3d.py'
model = dict(
    type='MultiStreamRecognizer',
    cls_head=dict(type='STFDHead', num_joints=20, num_frames=13))
