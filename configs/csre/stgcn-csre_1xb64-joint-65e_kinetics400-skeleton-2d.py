# CSRE on the stgcn baseline (stgcn_1xb64-joint-65e_kinetics400-skeleton-2d):
# the STFD head with spatial and temporal memory banks (csre.txt Sec. 3,
# hyper-parameters Sec. 4.2); the feature map is 75 frames x 18 joints after
# the backbone's two temporal strides (300 / 4), so the head's layers are
# built eagerly (multi-GPU safe).
_base_ = '../stgcn/stgcn_1xb64-joint-65e_kinetics400-skeleton-2d.py'
model = dict(
    type='MultiStreamRecognizer',
    cls_head=dict(type='STFDHead', num_joints=18, num_frames=75))
