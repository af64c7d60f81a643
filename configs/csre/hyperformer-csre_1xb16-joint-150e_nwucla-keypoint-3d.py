# CSRE on the Hyperformer baseline (hyperformer_1xb16-joint-150e_nwucla-keypoint-3d):
# the STFD head with spatial and temporal memory banks (csre.txt Sec. 3,
# hyper-parameters Sec. 4.2); the feature map is 13 frames x 20 joints
# after the backbone's two temporal strides (52 / 4), so the head's layers
# are built eagerly (multi-GPU safe).
_base_ = '../hyperformer/hyperformer_1xb16-joint-150e_nwucla-keypoint-3d.py'
model = dict(
    type='MultiStreamRecognizer',
    cls_head=dict(type='STFDHead', num_joints=20, num_frames=13))
