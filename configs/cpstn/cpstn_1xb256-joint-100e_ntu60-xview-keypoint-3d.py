# CP-STN pre-training on NTU RGB+D 60 cross-view (train cameras 2, 3).
_base_ = './cpstn_1xb256-joint-100e_ntu60-xsub-keypoint-3d.py'
train_dataloader = dict(dataset=dict(split='xview_train'))
