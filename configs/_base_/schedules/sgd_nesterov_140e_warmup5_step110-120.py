# BlockGCN's own recipe, which CSRE keeps for BlockGCN (csre.txt Sec. 4.2:
# "We follow the training recipes described in the paper"). Numbers from the
# official repository ZhouYuxuanYX/BlockGCN, config/nturgbd*/default.yaml
# (the same for NTU-60 xsub/xview and NTU-120 xsub/xset): SGD (main.py
# default), momentum 0.9 (main.py default), nesterov True, base_lr 0.05,
# weight_decay 4e-4, warm_up_epoch 5 (linear, main.py), step [110, 120] with
# lr_decay_rate 0.1, num_epoch 140, batch_size 64, window_size 64 (the batch
# size and clip length are those of the NTU dataset configs).
_base_ = './sgd_nesterov_65e_warmup5.py'
max_epochs = 140
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [
    _base_.param_scheduler[0],
    dict(_base_.param_scheduler[1], end=max_epochs, milestones=[110, 120])
]
optim_wrapper = dict(optimizer=dict(lr=0.05))
