# STF's divergence and coherence losses (stf.md Eq. 4-5, lambda 0.1 / 0.1) on
# ctrgcn_1xb64-joint-65e_ntu120-xset-keypoint-3d. Q is the Grad-CAM of the last
# stage; coherence ties it to the stage before. The exploration loss trains in
# its own model (ctrgcn-stf-e_1xb64-joint-65e_ntu120-xset-keypoint-3d.py) and
# the two are ensembled at test time (tools/ensemble.py), as the paper does.
_base_ = '../ctrgcn/ctrgcn_1xb64-joint-65e_ntu120-xset-keypoint-3d.py'
model = dict(
    type='MultiStreamRecognizer',
    stage_taps=dict(prev=-2, last=-1),
    aux_heads=dict(
        stf=dict(
            type='SpatioTemporalFocusHead', losses=('divergence',
                                                    'coherence'))))
