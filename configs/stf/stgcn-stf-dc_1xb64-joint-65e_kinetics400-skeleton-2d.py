# STF's divergence and coherence losses (stf.md Eq. 4-5, lambda 0.1 / 0.1) on
# stgcn_1xb64-joint-65e_kinetics400-skeleton-2d. Q is the Grad-CAM of the last
# stage; coherence ties it to the stage before. The exploration loss trains in
# its own model (stgcn-stf-e_1xb64-joint-65e_kinetics400-skeleton-2d.py) and
# the two are ensembled at test time (tools/ensemble.py), as the paper does.
_base_ = '../stgcn/stgcn_1xb64-joint-65e_kinetics400-skeleton-2d.py'
model = dict(
    type='MultiStreamRecognizer',
    stage_taps=dict(prev=-2, last=-1),
    aux_heads=dict(
        stf=dict(
            type='SpatioTemporalFocusHead', losses=('divergence',
                                                    'coherence'))))
