# CPU-budget schedule for paired seed sweeps (docs/results.md): 1,536
# iterations of batch 16 (24 x 1,024 samples, about 24 passes over the
# 1,020 NW-UCLA training clips), evaluated every 64 iterations so a run can
# be scored by the mean of its last k evaluations. SGD Nesterov lr 0.1,
# momentum 0.9, wd 4e-4 (the paper's); 192 linear warm-up iterations; lr
# x0.1 at 1,024 and 1,216, so the last 5 evaluations (1,280-1,536) all see
# the final lr. Configs using it set an InfiniteSampler and by_epoch=False
# checkpoints and logs (see the paired-sweep configs).
max_iters = 1536
val_interval = 64
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=val_interval)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    optimizer=dict(
        type='SGD', lr=0.1, momentum=0.9, weight_decay=4e-4, nesterov=True))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.2, by_epoch=False, begin=0, end=192),
    dict(
        type='MultiStepLR',
        by_epoch=False,
        begin=0,
        end=max_iters,
        milestones=[1024, 1216],
        gamma=0.1)
]
