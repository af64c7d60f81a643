# CSRE on the CTR-GCN baseline (ctrgcn_1xb64-joint-65e_ntu120-xset-keypoint-3d):
# the STFD head with spatial and temporal memory banks (csre.txt Sec. 3,
# hyper-parameters Sec. 4.2); CTR-GCN's two temporal strides map the
# 64-frame clips to a 16 frames x 25 joints feature map, so the head's layers
# are built eagerly (multi-GPU safe).
_base_ = '../ctrgcn/ctrgcn_1xb64-joint-65e_ntu120-xset-keypoint-3d.py'
model = dict(
    type='MultiStreamRecognizer',
    cls_head=dict(type='STFDHead', num_joints=25, num_frames=16))
