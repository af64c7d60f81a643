# STF's divergence and coherence losses (stf.md Eq. 4-5) on the CPU-budget
# ST-GCN for NW-UCLA (docs/results.md). The focus Q is the Grad-CAM of the
# last stage (gcn.5); coherence ties it to the stage before (gcn.4). The
# exploration loss trains in its own model
# (stgcn-small-stf-e_1xb16-joint-30e_nwucla-keypoint-3d.py) and the two are
# ensembled at test time, as the paper does.
_base_ = '../stgcn/stgcn-small_1xb16-joint-30e_nwucla-keypoint-3d.py'
model = dict(
    type='MultiStreamRecognizer',
    stage_taps=dict(prev=-2, last=-1),
    aux_heads=dict(
        stf=dict(
            type='SpatioTemporalFocusHead', losses=('divergence',
                                                    'coherence'))))
