# CTR-GCN baseline of the paired GPU check (tools/gpu/nwucla_paired_sweep.sh):
# CTR-GCN's own NW-UCLA recipe (as ctrgcn_1xb16-joint-65e_nwucla-keypoint-3d:
# batch 16, 52 frames, 65 epochs of the training list x5, lr 0.1 with a
# 5-epoch warm-up and a step at 50) on the data prepared as the official
# CTR-GCN / CSRE feeder does (nwucla_3d_joint_official: random view and
# scale, min-max, sorted resampling, joints relative to the spine, one
# sample per repeated index). Evaluated every epoch, so a run can be scored
# by its last 5 evaluations. The CSRE arm, ctrgcn-csre-official_*, changes
# only the head.
_base_ = [
    '../_base_/models/ctrgcn.py',
    '../_base_/datasets/nwucla_3d_joint_official.py',
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
train_dataloader = dict(num_workers=2, persistent_workers=True)
val_dataloader = dict(num_workers=1, persistent_workers=True)
test_dataloader = val_dataloader
default_hooks = dict(checkpoint=dict(save_best=None, max_keep_ckpts=1))
