# InfoGCN baseline, joint stream, NW-UCLA cross-view. The paper defers its
# NW-UCLA hyper-parameters to the supplementary material, which is not
# available here; this uses the official repository's defaults
# (stnoah1/infogcn args.py: 110 epochs, lr x0.1 at 90 and 100, lr 0.1,
# weight decay 5e-4, 5 warm-up epochs; see the schedule), its
# feeders/feeder_ucla.py (52-frame clips, one person, `repeat=5`: each
# epoch visits the training set 5 times) and batch 16 (as the CTR-GCN
# NW-UCLA recipe).
_base_ = [
    '../_base_/models/infogcn.py', '../_base_/datasets/nwucla_3d_joint.py',
    '../_base_/schedules/sgd_nesterov_110e_warmup5_step90-100_wd5e-4.py',
    '../_base_/default_runtime.py'
]
model = dict(
    data_preprocessor=dict(layout={{_base_.layout}}),
    backbone=dict(
        graph_cfg=dict(
            _delete_=True, layout={{_base_.graph_layout}}, mode='spatial'),
        num_person=1),
    cls_head=dict(num_classes=10))
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='RepeatDataset',
        times=5,
        dataset={{_base_.train_dataloader.dataset}}))
