# CSRE in mmcsre's earlier regime, paired-sweep arm: the same data stream as
# the baseline and the official-regime arm, but one bank slot per training
# clip (plain RepeatDataset: 1,020 slots), candidates used as available
# (anchor_rule='available') and CE + L_spa + L_tem (csre.txt Eq. 10 as
# printed).
_base_ = '../stgcn/stgcn-small_1xb16-joint-1536it_nwucla-official-keypoint-3d.py'
model = dict(
    type='MultiStreamRecognizer',
    cls_head=dict(
        type='STFDHead',
        num_joints=20,
        num_frames=13,
        memory_bank=dict(
            type='ContrastiveMemoryBank',
            num_samples=None,
            anchor_rule='available')))
train_dataloader = dict(dataset=dict(type='RepeatDataset'))
