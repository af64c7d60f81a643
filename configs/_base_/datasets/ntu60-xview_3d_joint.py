# NTU RGB+D 60 cross-view (train cameras 2, 3; test camera 1).
_base_ = './ntu60-xsub_3d_joint.py'
train_dataloader = dict(dataset=dict(split='xview_train'))
val_dataloader = dict(dataset=dict(split='xview_val'))
test_dataloader = val_dataloader
