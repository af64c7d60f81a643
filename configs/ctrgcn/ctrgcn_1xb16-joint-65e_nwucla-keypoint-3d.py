# CTR-GCN baseline, joint stream, NW-UCLA cross-view, CTR-GCN's own NW-UCLA
# recipe (Uason-Chen/CTR-GCN config/ucla/default.yaml; see the schedule):
# batch 16, 52-frame clips, one person, the training set repeated 5 times
# per epoch as the official feeder's `repeat: 5`.
_base_ = [
    '../_base_/models/ctrgcn.py', '../_base_/datasets/nwucla_3d_joint.py',
    '../_base_/schedules/sgd_nesterov_65e_warmup5_step50_wd1e-4.py',
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
