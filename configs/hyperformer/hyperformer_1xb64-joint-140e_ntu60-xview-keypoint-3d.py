# Hyperformer baseline, joint stream, ntu60-xview, Hyperformer's own recipe
# (140 epochs, lr 0.025, batch 64, 64-frame clips; see the schedule).
_base_ = [
    '../_base_/models/hyperformer.py',
    '../_base_/datasets/ntu60-xview_3d_joint.py',
    '../_base_/schedules/sgd_nesterov_140e_warmup5_hyperformer.py',
    '../_base_/default_runtime.py'
]
model = dict(cls_head=dict(num_classes=60))
