# CP-STN pre-training schedule (cp-stn.txt Sec. 4.1.4): Adam, "the learning
# rate declines from 0.00005 to 0 for 100 epochs" -- read as a linear decay
# (PolyLR with power 1), updated every iteration. No weight decay is
# mentioned. Pre-training has no validation loop.
max_epochs = 100
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
val_cfg = None
test_cfg = None

param_scheduler = [
    dict(
        type='PolyLR',
        power=1.0,
        eta_min=0.0,
        by_epoch=True,
        begin=0,
        end=max_epochs,
        convert_to_iter_based=True)
]

optim_wrapper = dict(optimizer=dict(type='Adam', lr=5e-5))
