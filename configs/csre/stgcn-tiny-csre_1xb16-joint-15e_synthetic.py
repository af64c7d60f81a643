# CSRE on the demo: the baseline demo config plus the CSRE head. The tiny
# ST-GCN halves the 32-frame clip once, so its feature map is 16 x 25.
_base_ = '../demo/stgcn-tiny_1xb16-joint-15e_synthetic.py'
model = dict(
    type='MultiStreamRecognizer',
    cls_head=dict(type='STFDHead', num_joints=25, num_frames=16))
