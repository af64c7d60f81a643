# CSRE on the InfoGCN baseline (infogcn_1xb128-joint-110e_ntu120-xset-keypoint-3d):
# the STFD head with spatial and temporal memory banks (csre.txt Sec. 3,
# hyper-parameters Sec. 4.2); the feature map is 16 frames x 25 joints after
# InfoGCN's two temporal strides on 64-frame clips, so the head's layers are
# built eagerly (multi-GPU safe).
_base_ = '../infogcn/infogcn_1xb128-joint-110e_ntu120-xset-keypoint-3d.py'
model = dict(
    type='MultiStreamRecognizer',
    cls_head=dict(type='STFDHead', num_joints=25, num_frames=16))
