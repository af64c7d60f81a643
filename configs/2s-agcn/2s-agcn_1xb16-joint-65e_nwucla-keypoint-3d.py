# 2s-AGCN baseline, joint stream, NW-UCLA cross-view, CTR-GCN recipe with
# batch 16 and 52-frame clips (see README).
_base_ = [
    '../_base_/models/2s-agcn.py', '../_base_/datasets/nwucla_3d_joint.py',
    '../_base_/schedules/sgd_nesterov_65e_warmup5.py',
    '../_base_/default_runtime.py'
]
model = dict(
    data_preprocessor=dict(layout={{_base_.layout}}),
    backbone=dict(
        graph_cfg=dict(
            _delete_=True, layout={{_base_.graph_layout}}, mode='spatial'),
        num_person=1),
    cls_head=dict(num_classes=10))
