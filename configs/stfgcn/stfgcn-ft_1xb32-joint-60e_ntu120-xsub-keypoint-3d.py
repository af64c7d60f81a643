# STF-GCN fine-tuned from the MS-G3D baseline, STF's training scheme
# (stf.md: "we pre-train the STF model from the MS-G3D baseline model, with
# lower initial learning rates {1e-3, 5e-4, 1e-4}", i.e. NTU-60 / NTU-120
# / Kinetics): lr 0.0005 for NTU-120. The paper gives no fine-tuning length
# or steps; the baseline schedule's are kept. Only the STF modules
# (stf_embed, stf_graph) are missing from the baseline checkpoint; they
# start with G_k = 0, so training starts from the baseline's predictions.
# load_from is a placeholder: the last checkpoint of
#   python tools/train.py configs/stfgcn/msg3d-k3_1xb32-joint-60e_ntu120-xsub-keypoint-3d.py
# in its default work_dir. tools/misc/generate_stream_configs.py gives each
# bone / motion child the same path for its own stream's baseline.
_base_ = ['./stfgcn_1xb32-joint-60e_ntu120-xsub-keypoint-3d.py']
optim_wrapper = dict(optimizer=dict(lr=0.0005))
load_from = 'work_dirs/msg3d-k3_1xb32-joint-60e_ntu120-xsub-keypoint-3d/'
