# CSRE on CTR-GCN in the official code's regime (docs/csre_regime.md), the
# method arm of the paired GPU check (tools/gpu/nwucla_paired_sweep.sh):
# - one bank slot per repeated training index (5,100 slots, labels tiled;
#   the dataset's IndexedRepeatDataset);
# - an anchor counts only once the bank holds 128 positives and 512
#   negatives of its kind (anchor_rule='complete');
# - loss CE + (L_spa + L_tem) / 2 (the official code halves the sum that
#   csre.txt Eq. 10 prints).
# CTR-GCN's two temporal strides give a 13 x 20 feature map, so the head's
# layers are built eagerly.
_base_ = '../ctrgcn/ctrgcn_1xb16-joint-65e_nwucla-official-keypoint-3d.py'
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
