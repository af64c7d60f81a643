# HCN's own recipe: for HCN, CSRE "follow[s] the training recipes described
# in the paper" (csre.txt Sec. 4.2). Numbers from skelact, the
# re-implementation by HCN's authors' institute that reproduces the paper's
# NTU-60 accuracy (hikvision-research/skelact):
# - Adam, lr 0.001, weight decay 1e-4, fc7's weight decay x10
#   (configs/hcn/hcn_ntu60_xsub_joint.py; fc7 only exists with
#   HCN(with_fc7=True), the key matches nothing otherwise);
# - lr x0.1 at epochs 350, 430, 470; 500 epochs; no warm-up
#   (configs/_base_/schedules/adam_500e.py);
# - validation every 5 epochs (configs/_base_/default_runtime.py);
# - batch 64 = 2 GPUs x 32 (README; configs/_base_/datasets/
#   ntu60_xsub_hcn.py), 64-frame clips (PoseResize clip_len=64): the NTU
#   dataset configs' batch size and clip length.
max_epochs = 500
train_cfg = dict(
    type='EpochBasedTrainLoop',
    max_epochs=max_epochs,
    val_begin=5,
    val_interval=5)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

param_scheduler = [
    dict(
        type='MultiStepLR',
        by_epoch=True,
        begin=0,
        end=max_epochs,
        milestones=[350, 430, 470],
        gamma=0.1)
]

optim_wrapper = dict(
    optimizer=dict(type='Adam', lr=0.001, weight_decay=1e-4),
    paramwise_cfg=dict(custom_keys={'backbone.fc7': dict(decay_mult=10.0)}))
