# CSRE on the CPU-budget CTR-GCN for NW-UCLA (docs/results.md); the feature
# map is 13 frames x 20 joints.
_base_ = '../ctrgcn/ctrgcn-small_1xb16-joint-30e_nwucla-keypoint-3d.py'
model = dict(
    type='MultiStreamRecognizer',
    cls_head=dict(type='STFDHead', num_joints=20, num_frames=13))
