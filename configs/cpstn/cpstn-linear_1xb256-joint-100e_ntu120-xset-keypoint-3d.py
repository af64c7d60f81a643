# Linear evaluation on NTU-120 X-Set (cp-stn.txt Table 3) of the encoder
# pre-trained by cpstn_1xb256-joint-100e_ntu120-xset-keypoint-3d.py; recipe
# of cpstn-linear_1xb256-joint-100e_ntu60-xsub-keypoint-3d.py.
_base_ = './cpstn-linear_1xb256-joint-100e_ntu120-xsub-keypoint-3d.py'
load_from = 'work_dirs/cpstn_1xb256-joint-100e_ntu120-xset-keypoint-3d/'
train_dataloader = dict(dataset=dict(split='xset_train'))
val_dataloader = dict(dataset=dict(split='xset_val'))
test_dataloader = val_dataloader
