# CSRE + FR Head on ST-GCN, NW-UCLA: the CSRE classifier head (as in
# ../csre/stgcn-csre_1xb16-joint-65e_nwucla-keypoint-3d.py) plus the paper's
# FR Head of stgcn-frhead; both heads' losses add up.
_base_ = './stgcn-frhead_1xb16-joint-65e_nwucla-keypoint-3d.py'
model = dict(cls_head=dict(type='STFDHead', num_joints=20, num_frames=13))
