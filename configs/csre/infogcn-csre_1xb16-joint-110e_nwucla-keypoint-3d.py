# CSRE on the InfoGCN baseline (infogcn_1xb16-joint-110e_nwucla-keypoint-3d):
# the STFD head with spatial and temporal memory banks (csre.txt Sec. 3,
# hyper-parameters Sec. 4.2); the feature map is 13 frames x 20 joints after
# InfoGCN's two temporal strides on 52-frame clips, so the head's layers are
# built eagerly (multi-GPU safe). CSRE reports InfoGCN on NW-UCLA (csre.txt
# Table 3).
_base_ = '../infogcn/infogcn_1xb16-joint-110e_nwucla-keypoint-3d.py'
model = dict(
    type='MultiStreamRecognizer',
    cls_head=dict(type='STFDHead', num_joints=20, num_frames=13))
