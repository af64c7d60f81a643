# Linear evaluation on NTU-60 X-View (cp-stn.txt Table 2) of the encoder
# pre-trained by cpstn_1xb256-joint-100e_ntu60-xview-keypoint-3d.py; recipe
# of cpstn-linear_1xb256-joint-100e_ntu60-xsub-keypoint-3d.py.
_base_ = './cpstn-linear_1xb256-joint-100e_ntu60-xsub-keypoint-3d.py'
load_from = 'work_dirs/cpstn_1xb256-joint-100e_ntu60-xview-keypoint-3d/'
train_dataloader = dict(dataset=dict(split='xview_train'))
val_dataloader = dict(dataset=dict(split='xview_val'))
test_dataloader = val_dataloader
