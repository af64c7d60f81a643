# CP-STN pre-training on NTU RGB+D 120 cross-subject.
_base_ = './cpstn_1xb256-joint-100e_ntu60-xsub-keypoint-3d.py'
train_dataloader = dict(
    dataset=dict(
        ann_file='data/skeleton/ntu120_3danno.pkl',
        split='xsub_train',
        num_classes=120))
