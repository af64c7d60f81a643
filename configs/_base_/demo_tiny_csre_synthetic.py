# Shared part of the one-epoch tiny CSRE demos on the embedded synthetic
# dataset (configs/demo/*-tiny-csre_1xb16-joint-1e_synthetic.py, the
# end-to-end tools tests of each backbone): the tiny ST-GCN + CSRE config
# trained for one epoch with a cosine lr, validated and checkpointed at its
# end. A demo replaces the backbone (``_delete_=True``) and sets the head's
# ``in_channels``, ``num_joints`` and ``num_frames`` to its feature map.
_base_ = '../csre/stgcn-tiny-csre_1xb16-joint-15e_synthetic.py'

max_epochs = 1
train_cfg = dict(max_epochs=max_epochs, val_begin=1, val_interval=1)
param_scheduler = [
    dict(
        type='CosineAnnealingLR',
        by_epoch=True,
        begin=0,
        end=max_epochs,
        T_max=max_epochs,
        convert_to_iter_based=True)
]
default_hooks = dict(checkpoint=dict(interval=1))
