# ST-GCN baseline, joint stream, Kinetics-skeleton 400 (2D + score, 300
# frames, 2 persons), trained with the repository's ST-GCN recipe (CTR-GCN's:
# SGD Nesterov lr 0.1, wd 4e-4, batch 64, 65 epochs). ST-GCN's own Kinetics
# recipe (yysijie/st-gcn config/st_gcn/kinetics-skeleton/train.yaml) was
# batch 256 on 4 GPUs, lr 0.1 x0.1 at epochs 20, 30 and 40 of 50, wd 1e-4,
# random 150-frame windows and random_move; its OLD_README.md: 31.6% top-1.
_base_ = [
    '../_base_/models/stgcn.py',
    '../_base_/datasets/kinetics400-skeleton_2d_joint.py',
    '../_base_/schedules/sgd_nesterov_65e_warmup5.py',
    '../_base_/default_runtime.py'
]
model = dict(
    data_preprocessor=dict(
        layout={{_base_.layout}}, num_coords={{_base_.num_coords}}),
    backbone=dict(graph_cfg=dict(layout='openpose', mode='stgcn_spatial')),
    cls_head=dict(num_classes=400))
