# MS-G3D's NTU RGB+D 120 recipe (kenziyuliu/MS-G3D
# config/nturgbd120-cross-subject/train_joint.yaml): as the NTU-60 one (SGD
# Nesterov, lr 0.05, weight decay 5e-4, batch 32, no warm-up) but lr x0.1
# at epochs 30 and 50, 60 epochs. STF (stf.md) decays at 20/35/50 on NTU-120.
_base_ = './sgd_nesterov_50e_step30-40_msg3d.py'
max_epochs = 60
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [
    dict(
        type='MultiStepLR',
        by_epoch=True,
        begin=0,
        end=max_epochs,
        milestones=[30, 50],
        gamma=0.1)
]
