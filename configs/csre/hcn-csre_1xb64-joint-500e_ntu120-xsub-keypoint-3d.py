# CSRE on the HCN baseline (hcn_1xb64-joint-500e_ntu120-xsub-keypoint-3d): the
# STFD head with spatial and temporal memory banks (csre.txt Sec. 3,
# hyper-parameters Sec. 4.2) on HCN's conv6 map, 4 frames (64 / 16) x 2
# cells of the point-level feature axis (HCN has no joint axis after its
# transpose), so the head's layers are built eagerly (multi-GPU safe).
_base_ = '../hcn/hcn_1xb64-joint-500e_ntu120-xsub-keypoint-3d.py'
model = dict(
    type='MultiStreamRecognizer',
    cls_head=dict(type='STFDHead', num_joints=2, num_frames=4))
