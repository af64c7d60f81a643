# MS-G3D-style baseline of STF (STFGCN, use_stf=False: factorised pathway,
# K = 3 scales, no G3D), joint stream, ntu60-xview, MS-G3D's recipe (SGD
# Nesterov, lr 0.05, wd 5e-4, batch 32; see the schedule). Its final
# checkpoint is the starting point of stfgcn-ft_*.
_base_ = [
    '../_base_/models/stfgcn.py', '../_base_/datasets/ntu60-xview_3d_joint.py',
    '../_base_/schedules/sgd_nesterov_50e_step30-40_msg3d.py',
    '../_base_/default_runtime.py'
]
model = dict(
    backbone=dict(use_stf=False),
    stage_taps=None,
    aux_heads=None,
    cls_head=dict(num_classes=60))
train_dataloader = dict(batch_size=32)
