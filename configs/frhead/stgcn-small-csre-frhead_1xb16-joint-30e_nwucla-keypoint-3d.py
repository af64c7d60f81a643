# CSRE + FR Head on the CPU-budget ST-GCN for NW-UCLA: the CSRE classifier
# head (as in ../csre/stgcn-small-csre_1xb16-joint-30e_nwucla-keypoint-3d.py)
# plus the FR Head of stgcn-small-frhead; both heads' losses add up.
_base_ = './stgcn-small-frhead_1xb16-joint-30e_nwucla-keypoint-3d.py'
model = dict(cls_head=dict(type='STFDHead', num_joints=20, num_frames=13))
