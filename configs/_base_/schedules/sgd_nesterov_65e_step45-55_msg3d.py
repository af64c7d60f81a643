# MS-G3D's Kinetics-skeleton recipe (kenziyuliu/MS-G3D
# config/kinetics-skeleton/train_joint.yaml): as the NTU-60 one (SGD
# Nesterov, lr 0.05, weight decay 5e-4, no warm-up) but lr x0.1 at epochs
# 45 and 55, 65 epochs. STF (stf.md) decays at 25/40/55 on Kinetics.
_base_ = './sgd_nesterov_50e_step30-40_msg3d.py'
max_epochs = 65
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [
    dict(
        type='MultiStepLR',
        by_epoch=True,
        begin=0,
        end=max_epochs,
        milestones=[45, 55],
        gamma=0.1)
]
