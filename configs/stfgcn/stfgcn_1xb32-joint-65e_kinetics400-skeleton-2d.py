# STF-GCN with STF's L_d + L_c + L_Gk (the STF head of
# ../_base_/models/stfgcn.py) on Kinetics-skeleton 400 (OpenPose 18 joints,
# x, y and score, 2 persons, 300 frames repeat-padded), MS-G3D's Kinetics
# recipe (see the schedule), trained from scratch. STF's own flow
# fine-tunes from the MS-G3D baseline:
# stfgcn-ft_1xb32-joint-65e_kinetics400-skeleton-2d.py.
_base_ = [
    '../_base_/models/stfgcn.py',
    '../_base_/datasets/kinetics400-skeleton_2d_joint.py',
    '../_base_/schedules/sgd_nesterov_65e_step45-55_msg3d.py',
    '../_base_/default_runtime.py'
]
model = dict(
    data_preprocessor=dict(
        layout={{_base_.layout}}, num_coords={{_base_.num_coords}}),
    backbone=dict(graph_cfg=dict(layout='openpose')),
    cls_head=dict(num_classes=400))
train_dataloader = dict(batch_size=32)
