# BlockGCN baseline, joint stream, NW-UCLA cross-view. The official
# repository ZhouYuxuanYX/BlockGCN does not ship its NW-UCLA config; its
# train.sh names the run "decay_110_120_140_epochs" (140 epochs, lr x0.1 at
# 110 and 120, as for NTU) and its feeders/feeder_ucla.py samples 52 frames.
# The rest follows Hyperformer's config/ucla/joint.yaml (ZhouYuxuanYX/
# Hyperformer, whose recipe BlockGCN's README says it reuses): batch 16,
# base_lr 0.025, weight_decay 0, Nesterov, 5 warm-up epochs, and the training
# set repeated 5 times per epoch (the feeder's `repeat: 5`).
_base_ = [
    '../_base_/models/blockgcn.py', '../_base_/datasets/nwucla_3d_joint.py',
    '../_base_/schedules/sgd_nesterov_140e_warmup5_step110-120.py',
    '../_base_/default_runtime.py'
]
model = dict(
    data_preprocessor=dict(layout={{_base_.layout}}),
    backbone=dict(
        graph_cfg=dict(
            _delete_=True, layout={{_base_.graph_layout}}, mode='spatial'),
        num_person=1),
    cls_head=dict(num_classes=10))
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='RepeatDataset',
        times=5,
        dataset={{_base_.train_dataloader.dataset}}))
optim_wrapper = dict(optimizer=dict(lr=0.025, weight_decay=0.))
