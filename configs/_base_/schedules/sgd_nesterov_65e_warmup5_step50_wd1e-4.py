# CTR-GCN's own NW-UCLA recipe, which CSRE keeps for CTR-GCN (csre.txt
# Sec. 4.2: "For CTR-GCN, we follow their training strategies"). Numbers from
# the official repository Uason-Chen/CTR-GCN, config/ucla/default.yaml:
# base_lr 0.1, weight_decay 1e-4, step [50] with lr_decay_rate 0.1,
# num_epoch 65, warm_up_epoch 5, nesterov True, batch_size 16, window_size 52;
# SGD with momentum 0.9 and a linear warm-up are main.py's. The batch size,
# the clip length and the training set repeated 5 times per epoch (the
# feeder's repeat: 5) are set by the NW-UCLA configs.
max_epochs = 65
train_cfg = dict(
    type='EpochBasedTrainLoop',
    max_epochs=max_epochs,
    val_begin=1,
    val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.2,
        by_epoch=True,
        begin=0,
        end=5,
        convert_to_iter_based=True),
    dict(
        type='MultiStepLR',
        by_epoch=True,
        begin=0,
        end=max_epochs,
        milestones=[50],
        gamma=0.1)
]

optim_wrapper = dict(
    optimizer=dict(
        type='SGD', lr=0.1, momentum=0.9, weight_decay=1e-4, nesterov=True))
