# NTU RGB+D 120 cross-subject.
_base_ = './ntu60-xsub_3d_joint.py'
ann_file = 'data/skeleton/ntu120_3danno.pkl'
num_classes = 120
train_dataloader = dict(
    dataset=dict(ann_file=ann_file, num_classes=num_classes))
val_dataloader = dict(dataset=dict(ann_file=ann_file, num_classes=num_classes))
test_dataloader = val_dataloader
