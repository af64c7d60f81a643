# CSRE on the demo: the baseline demo config plus the CSRE head.
_base_ = '../demo/stgcn-tiny_1xb16-joint-15e_synthetic.py'
model = dict(type='MultiStreamRecognizer', cls_head=dict(type='STFDHead'))
