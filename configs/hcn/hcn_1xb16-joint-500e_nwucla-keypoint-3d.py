# HCN baseline, joint stream, NW-UCLA cross-view, HCN's own recipe (Adam,
# 500 epochs; see the schedule's sources) with batch 16 and 52-frame clips
# as the other NW-UCLA configs (HCN reports no NW-UCLA recipe).
_base_ = [
    '../_base_/models/hcn.py', '../_base_/datasets/nwucla_3d_joint.py',
    '../_base_/schedules/adam_500e_steps350-430-470.py',
    '../_base_/default_runtime.py'
]
model = dict(
    data_preprocessor=dict(layout={{_base_.layout}}),
    backbone=dict(
        graph_cfg=dict(
            _delete_=True, layout={{_base_.graph_layout}}, mode='spatial'),
        num_person=1),
    cls_head=dict(num_classes=10))
