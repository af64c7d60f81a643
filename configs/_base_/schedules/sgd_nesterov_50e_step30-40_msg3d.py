# MS-G3D's NTU RGB+D 60 recipe (kenziyuliu/MS-G3D
# config/nturgbd-cross-subject/train_joint.yaml and main.py): SGD, momentum
# 0.9, Nesterov, lr 0.05, weight decay 5e-4, batch 32, lr x0.1 at epochs 30
# and 40, 50 epochs, no warm-up (main.py builds a plain MultiStepLR). STF
# (stf.md, "Training scheme") trains its MS-G3D baseline with the same
# optimiser but decays at 20/35/45 on NTU-60 without giving the epoch count.
max_epochs = 50
train_cfg = dict(
    type='EpochBasedTrainLoop',
    max_epochs=max_epochs,
    val_begin=1,
    val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

param_scheduler = [
    dict(
        type='MultiStepLR',
        by_epoch=True,
        begin=0,
        end=max_epochs,
        milestones=[30, 40],
        gamma=0.1)
]

optim_wrapper = dict(
    optimizer=dict(
        type='SGD', lr=0.05, momentum=0.9, weight_decay=5e-4, nesterov=True))
