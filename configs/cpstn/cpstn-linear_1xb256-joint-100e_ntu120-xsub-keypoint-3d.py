# Linear evaluation on NTU-120 X-Sub (cp-stn.txt Table 3) of the encoder
# pre-trained by cpstn_1xb256-joint-100e_ntu120-xsub-keypoint-3d.py; recipe
# of cpstn-linear_1xb256-joint-100e_ntu60-xsub-keypoint-3d.py.
_base_ = './cpstn-linear_1xb256-joint-100e_ntu60-xsub-keypoint-3d.py'
load_from = 'work_dirs/cpstn_1xb256-joint-100e_ntu120-xsub-keypoint-3d/'
ann_file = 'data/skeleton/ntu120_3danno.pkl'
num_classes = 120
model = dict(cls_head=dict(num_classes=num_classes))
train_dataloader = dict(
    dataset=dict(ann_file=ann_file, num_classes=num_classes))
val_dataloader = dict(dataset=dict(ann_file=ann_file, num_classes=num_classes))
test_dataloader = val_dataloader
