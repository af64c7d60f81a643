# CP-STN pre-training on NTU RGB+D 120 cross-setup (even setup ids).
_base_ = './cpstn_1xb256-joint-100e_ntu120-xsub-keypoint-3d.py'
train_dataloader = dict(dataset=dict(split='xset_train'))
