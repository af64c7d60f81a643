# STF's fine-tuning flow (stf.md "Training scheme": the STF model starts from
# the trained baseline with a lower lr) on the CPU budget: the exploration loss
# on the trained CPU-budget ST-GCN (epoch 30), 10 epochs at lr 1e-3.
# The control without STF is
# ../stgcn/stgcn-small-ft_1xb16-joint-10e_nwucla-keypoint-3d.py.
_base_ = '../stgcn/stgcn-small-ft_1xb16-joint-10e_nwucla-keypoint-3d.py'
# Restated so each generated stream child starts from its own stream.
load_from = 'work_dirs/stgcn-small_1xb16-joint-30e_nwucla-keypoint-3d/'
model = dict(
    type='MultiStreamRecognizer',
    stage_taps=dict(last=-1),
    aux_heads=dict(
        stf=dict(type='SpatioTemporalFocusHead', losses=('exploration', ))))
