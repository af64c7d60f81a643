# InfoGCN with its information-bottleneck objective on NW-UCLA: the
# baseline plus the training-only InfoBottleneckHead (latent mu/logvar,
# decoder cross-entropy with label smoothing 0.1, MMD to class priors with
# weight 0.1, mean-latent norm with weight 1e-4: stnoah1/infogcn main.py and
# args.py). GCNHead stays the classifier used at test time.
_base_ = './infogcn_1xb16-joint-110e_nwucla-keypoint-3d.py'
model = dict(
    type='MultiStreamRecognizer',
    aux_heads=dict(
        ib=dict(type='InfoBottleneckHead', num_classes=10, in_channels=256)))
