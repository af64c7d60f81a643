# Control for the STF fine-tuning protocol on the CPU budget
# (docs/results.md): the trained CPU-budget ST-GCN
# (stgcn-small_1xb16-joint-30e_nwucla-keypoint-3d, epoch 30) trained 10 more
# epochs at the constant lr 1e-3 of STF's fine-tuning (stf.md "Training
# scheme"), without the STF losses. load_from is that run's checkpoint.
_base_ = './stgcn-small_1xb16-joint-30e_nwucla-keypoint-3d.py'
load_from = 'work_dirs/stgcn-small_1xb16-joint-30e_nwucla-keypoint-3d/'
max_epochs = 10
train_cfg = dict(max_epochs=max_epochs)
optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = [
    dict(
        type='ConstantLR', factor=1.0, by_epoch=True, begin=0, end=max_epochs)
]
