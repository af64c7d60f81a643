# InfoGCN baseline, joint stream, ntu60-xview, InfoGCN's own recipe (110 epochs,
# batch 128, 64-frame clips; see the schedule file for the source of each
# number).
_base_ = [
    '../_base_/models/infogcn.py',
    '../_base_/datasets/ntu60-xview_3d_joint.py',
    '../_base_/schedules/sgd_nesterov_110e_warmup5_step90-100_wd5e-4.py',
    '../_base_/default_runtime.py'
]
model = dict(cls_head=dict(num_classes=60))
# stnoah1/infogcn README: --batch_size=128 --test_batch_size=128.
train_dataloader = dict(batch_size=128)
val_dataloader = dict(batch_size=128)
test_dataloader = val_dataloader
