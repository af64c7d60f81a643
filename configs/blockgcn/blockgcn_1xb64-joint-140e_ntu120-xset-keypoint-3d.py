# BlockGCN baseline, joint stream, ntu120-xset, BlockGCN's own recipe (140 epochs,
# see the schedule file for the sources of each number).
_base_ = [
    '../_base_/models/blockgcn.py',
    '../_base_/datasets/ntu120-xset_3d_joint.py',
    '../_base_/schedules/sgd_nesterov_140e_warmup5_step110-120.py',
    '../_base_/default_runtime.py'
]
model = dict(cls_head=dict(num_classes=120))
