# Hyperformer baseline, joint stream, NW-UCLA cross-view, Hyperformer's own
# NW-UCLA recipe (150 epochs, lr 0.025, no weight decay, batch 16, 52-frame
# clips, one person; see the schedule), the training set repeated 5 times
# per epoch as the official feeder's `repeat: 5` (config/ucla/joint.yaml).
# The official NW-UCLA body-part partition is picked from the layout (see
# the Hyperformer docstring).
_base_ = [
    '../_base_/models/hyperformer.py', '../_base_/datasets/nwucla_3d_joint.py',
    '../_base_/schedules/sgd_nesterov_150e_warmup5_hyperformer-nwucla.py',
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
