# CTR-GCN baseline, joint stream, ntu120-xset, CTR-GCN's own recipe
# (Uason-Chen/CTR-GCN config/nturgbd*/default.yaml: SGD nesterov, lr 0.1,
# weight decay 4e-4, 5 warm-up epochs, lr x0.1 at 35 and 55, 65 epochs,
# batch 64, 64-frame clips; see README).
_base_ = [
    '../_base_/models/ctrgcn.py', '../_base_/datasets/ntu120-xset_3d_joint.py',
    '../_base_/schedules/sgd_nesterov_65e_warmup5.py',
    '../_base_/default_runtime.py'
]
model = dict(cls_head=dict(num_classes=120))
