# Semi-supervised fine-tuning of a CP-STN encoder (cp-stn.txt Sec. 4.2.2): a
# linear classifier (GCNHead without dropout) attached to the pre-trained
# encoder and the whole network trained on the labelled fraction. The
# encoder is the one of ./cpstn.py, so a CP-STN checkpoint's backbone.* keys
# load one to one (set load_from in the config). NTU layout; NW-UCLA configs
# replace it.
_base_ = './cpstn.py'
model = dict(
    _delete_=True,
    type='RecognizerGCN',
    data_preprocessor={{_base_.model.data_preprocessor}},
    backbone={{_base_.model.backbone}},
    cls_head=dict(
        type='GCNHead',
        num_classes=60,
        in_channels=256,
        dropout=0.,
        average_clips='prob'))
