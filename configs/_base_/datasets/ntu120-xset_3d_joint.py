# NTU RGB+D 120 cross-setup (even setup ids train, odd test).
_base_ = './ntu120-xsub_3d_joint.py'
train_dataloader = dict(dataset=dict(split='xset_train'))
val_dataloader = dict(dataset=dict(split='xset_val'))
test_dataloader = val_dataloader
