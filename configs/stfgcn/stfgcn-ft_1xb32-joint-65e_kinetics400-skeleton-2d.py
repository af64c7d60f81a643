# STF-GCN with L_d + L_c + L_Gk fine-tuned from the MS-G3D baseline on
# Kinetics-skeleton 400 at STF's Kinetics lr 1e-4 (stf.md "Training
# scheme"; the paper gives no fine-tuning length, the baseline schedule is
# kept). load_from is a placeholder: the last checkpoint of
#   python tools/train.py configs/stfgcn/msg3d-k3_1xb32-joint-65e_kinetics400-skeleton-2d.py
_base_ = './stfgcn_1xb32-joint-65e_kinetics400-skeleton-2d.py'
optim_wrapper = dict(optimizer=dict(lr=1e-4))
load_from = 'work_dirs/msg3d-k3_1xb32-joint-65e_kinetics400-skeleton-2d/'
