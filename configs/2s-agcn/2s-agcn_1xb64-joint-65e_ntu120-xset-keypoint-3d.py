# 2s-AGCN baseline, joint stream, ntu120-xset, CTR-GCN recipe (see README).
_base_ = [
    '../_base_/models/2s-agcn.py',
    '../_base_/datasets/ntu120-xset_3d_joint.py',
    '../_base_/schedules/sgd_nesterov_65e_warmup5.py',
    '../_base_/default_runtime.py'
]
model = dict(cls_head=dict(num_classes=120))
