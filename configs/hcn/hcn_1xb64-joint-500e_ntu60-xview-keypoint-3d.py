# HCN baseline, joint stream, ntu60-xview, HCN's own recipe (Adam, 500 epochs,
# batch 64, 64-frame clips; see the schedule's sources).
_base_ = [
    '../_base_/models/hcn.py', '../_base_/datasets/ntu60-xview_3d_joint.py',
    '../_base_/schedules/adam_500e_steps350-430-470.py',
    '../_base_/default_runtime.py'
]
model = dict(cls_head=dict(num_classes=60))
