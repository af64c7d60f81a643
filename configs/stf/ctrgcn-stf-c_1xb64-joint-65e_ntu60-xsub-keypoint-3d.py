# STF ablation M2 (stf.md Table 5): the coherence loss alone (lambda 0.1) on
# ctrgcn_1xb64-joint-65e_ntu60-xsub-keypoint-3d. Q is the Grad-CAM of the last
# stage; coherence ties it to the stage before. Compare with the baseline and
# with the -dc model (M3).
_base_ = '../ctrgcn/ctrgcn_1xb64-joint-65e_ntu60-xsub-keypoint-3d.py'
model = dict(
    type='MultiStreamRecognizer',
    stage_taps=dict(prev=-2, last=-1),
    aux_heads=dict(
        stf=dict(type='SpatioTemporalFocusHead', losses=('coherence', ))))
