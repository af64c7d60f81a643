# STF's exploration loss (stf.md Eq. 3, lambda 0.01) on
# stgcn_1xb16-joint-65e_nwucla-keypoint-3d. Q is the Grad-CAM of the last
# stage; coherence ties it to the stage before. Trained apart from the
# divergence / coherence model
# (stgcn-stf-dc_1xb16-joint-65e_nwucla-keypoint-3d.py) and ensembled with it at
# test time (tools/ensemble.py), as the paper does.
_base_ = '../stgcn/stgcn_1xb16-joint-65e_nwucla-keypoint-3d.py'
model = dict(
    type='MultiStreamRecognizer',
    stage_taps=dict(last=-1),
    aux_heads=dict(
        stf=dict(type='SpatioTemporalFocusHead', losses=('exploration', ))))
