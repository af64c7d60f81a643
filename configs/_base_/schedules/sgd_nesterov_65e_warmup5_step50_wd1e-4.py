# CTR-GCN's own NW-UCLA recipe, which CSRE keeps for CTR-GCN (csre.txt
# Sec. 4.2: "For CTR-GCN, we follow their training strategies"). Numbers from
# the official repository Uason-Chen/CTR-GCN, config/ucla/default.yaml:
# base_lr 0.1, weight_decay 1e-4, step [50] with lr_decay_rate 0.1,
# num_epoch 65, warm_up_epoch 5, nesterov True, batch_size 16, window_size 52;
# SGD with momentum 0.9 and a linear warm-up are main.py's. The batch size,
# the clip length and the training set repeated 5 times per epoch (the
# feeder's repeat: 5) are set by the NW-UCLA configs.
_base_ = './sgd_nesterov_65e_warmup5.py'
param_scheduler = [
    _base_.param_scheduler[0],
    dict(_base_.param_scheduler[1], milestones=[50])
]
optim_wrapper = dict(optimizer=dict(weight_decay=1e-4))
