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
    _base_.param_scheduler[0],
    dict(_base_.param_scheduler[1], end=max_epochs)
]
optim_wrapper = dict(optimizer=dict(weight_decay=0.))
