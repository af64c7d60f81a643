# Linear evaluation of a CP-STN encoder (cp-stn.txt Sec. 4.1.4, 4.2.1): the
# pre-trained encoder frozen (FrozenBackbone: no gradients, BatchNorm and
# dropout in eval mode) and a linear classifier on its features averaged over
# frames, joints and persons, standardised per feature over the batch
# (LinearProbeHead: parameter-free BatchNorm, then one linear layer, no
# dropout). The encoder is the
# one of ./cpstn.py, so a CP-STN checkpoint's backbone.* keys load one to one
# (set load_from in the config). NTU layout; NW-UCLA configs replace it.
_base_ = './cpstn.py'
model = dict(
    _delete_=True,
    type='RecognizerGCN',
    data_preprocessor={{_base_.model.data_preprocessor}},
    backbone=dict(type='FrozenBackbone', backbone={{_base_.model.backbone}}),
    cls_head=dict(
        type='LinearProbeHead',
        num_classes=60,
        in_channels=256,
        dropout=0.,
        average_clips='prob'))
