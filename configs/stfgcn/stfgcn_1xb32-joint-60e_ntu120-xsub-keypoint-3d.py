# STF-GCN (STF modules in every GCN) with STF's L_d + L_c + L_Gk
# (SpatioTemporalFocusHead; L_e trains in its own model, stfgcn-ft-e_*),
# trained from scratch, joint stream,
# ntu120-xsub, MS-G3D's recipe (see the schedule). STF's own flow fine-tunes
# from the MS-G3D baseline: stfgcn-ft_*.
_base_ = [
    '../_base_/models/stfgcn.py', '../_base_/datasets/ntu120-xsub_3d_joint.py',
    '../_base_/schedules/sgd_nesterov_60e_step30-50_msg3d.py',
    '../_base_/default_runtime.py'
]
model = dict(cls_head=dict(num_classes=120))
train_dataloader = dict(batch_size=32)
