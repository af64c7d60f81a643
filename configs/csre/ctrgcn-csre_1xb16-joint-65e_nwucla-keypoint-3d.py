# CSRE on the CTR-GCN baseline (ctrgcn_1xb16-joint-65e_nwucla-keypoint-3d):
# the STFD head with spatial and temporal memory banks (csre.txt Sec. 3,
# hyper-parameters Sec. 4.2); CTR-GCN's two temporal strides map the
# 52-frame clips to a 13 frames x 20 joints feature map, so the head's layers
# are built eagerly (multi-GPU safe). The banks hold one slot per training
# sample (1,020), not per repeat.
_base_ = '../ctrgcn/ctrgcn_1xb16-joint-65e_nwucla-keypoint-3d.py'
model = dict(
    type='MultiStreamRecognizer',
    cls_head=dict(type='STFDHead', num_joints=20, num_frames=13))
