# CSRE in the official code's regime (docs/csre_regime.md), paired-sweep arm:
# - one bank slot per repeated training index (IndexedRepeatDataset x5:
#   5,100 slots, labels tiled), not one per clip;
# - an anchor counts only once the bank holds 128 positives and 512
#   negatives of its kind (anchor_rule='complete');
# - loss CE + (L_spa + L_tem) / 2 (the official code halves the sum that
#   csre.txt Eq. 10 prints).
_base_ = '../stgcn/stgcn-small_1xb16-joint-1536it_nwucla-official-keypoint-3d.py'
model = dict(
    type='MultiStreamRecognizer',
    cls_head=dict(
        type='STFDHead',
        num_joints=20,
        num_frames=13,
        loss_weights=dict(spatial=0.5, temporal=0.5),
        memory_bank=dict(
            type='ContrastiveMemoryBank',
            num_samples=None,
            anchor_rule='complete')))
