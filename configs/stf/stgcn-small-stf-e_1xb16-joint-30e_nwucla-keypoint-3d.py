# STF's exploration loss (stf.md Eq. 3) on the CPU-budget ST-GCN for NW-UCLA:
# the input with its Grad-CAM focus removed should lose the predicted class.
# Trained apart from the divergence / coherence model
# (stgcn-small-stf-dc_1xb16-joint-30e_nwucla-keypoint-3d.py) and ensembled
# with it at test time, as the paper does.
_base_ = '../stgcn/stgcn-small_1xb16-joint-30e_nwucla-keypoint-3d.py'
model = dict(
    type='MultiStreamRecognizer',
    stage_taps=dict(last=-1),
    aux_heads=dict(
        stf=dict(type='SpatioTemporalFocusHead', losses=('exploration', ))))
