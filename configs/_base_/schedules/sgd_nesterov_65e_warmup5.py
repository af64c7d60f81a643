# The CTR-GCN recipe used by CSRE (csre.txt Sec. 4.2) and FR Head
# (fr-head.md Sec. 4.2): SGD, momentum 0.9, Nesterov, lr 0.1, weight decay
# 4e-4, 5 linear warm-up epochs, lr x0.1 at epochs 35 and 55, 65 epochs.
# lr 0.1 is for the batch size of the dataset config (64 NTU, 16 NW-UCLA).
# The other SGD schedules inherit this one. A child that changes max_epochs
# or the milestones rebuilds param_scheduler from these entries
# (``_base_.param_scheduler[i]``): an inherited list is replaced wholesale,
# and ``end`` here was evaluated with this file's max_epochs.
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
        milestones=[35, 55],
        gamma=0.1)
]

optim_wrapper = dict(
    optimizer=dict(
        type='SGD', lr=0.1, momentum=0.9, weight_decay=4e-4, nesterov=True))
