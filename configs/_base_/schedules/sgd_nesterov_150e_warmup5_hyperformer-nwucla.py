# Hyperformer's own NW-UCLA recipe (kept by CSRE, csre.txt Sec. 4.2), from
# github.com/ZhouYuxuanYX/Hyperformer config/ucla/joint.yaml: SGD, Nesterov,
# lr 0.025, weight decay 0, 5 warm-up epochs, lr x0.1 at epochs 110 and
# 120, 150 epochs, batch 16, 52 frames; momentum 0.9 is main.py's default.
# The official feeder's `repeat: 5` (5 passes over the training set per
# epoch) is a RepeatDataset in the NW-UCLA config. Warm-up as in
# sgd_nesterov_140e_warmup5_hyperformer.py.
_base_ = './sgd_nesterov_140e_warmup5_hyperformer.py'
max_epochs = 150
train_cfg = dict(max_epochs=max_epochs)
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
        milestones=[110, 120],
        gamma=0.1)
]
optim_wrapper = dict(optimizer=dict(weight_decay=0.))
