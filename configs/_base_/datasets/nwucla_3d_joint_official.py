# Northwestern-UCLA, cross-view protocol, joint stream, prepared as the
# official CTR-GCN / CSRE feeder (feeders/feeder_ucla.py) does:
# - training: centre on joint 1 of the first frame, random rotation about x
#   and y (integer degrees in [-60, 60]) and scale in [0.5, 1.5], per-axis
#   min-max to [-1, 1], then 52 frames by sorted random resampling (short
#   clips are stretched, never looped from a random phase);
# - testing: the same centring and min-max, 52 evenly spaced frames;
# - joints relative to the spine (joint 2) of each frame, the spine keeping
#   its trajectory;
# - the training list repeated 5 times per epoch, each repeated index its
#   own sample (IndexedRepeatDataset: one memory-bank slot each, 5,100).
# Joint stream only: bones and motions need absolute joints.
_base_ = './nwucla_3d_joint.py'
clip_len = 52
meta_keys = ('frame_dir', 'sample_idx')
train_pipeline = [
    dict(type='RandomViewNormalize', center_joint=1),
    dict(type='SortedResampleFrames', clip_len=clip_len),
    dict(type='PoseDecode'),
    dict(type='RelativeToJoint', joint=2),
    dict(type='FormatGCNInput', num_person=1),
    dict(type='PackActionInputs', meta_keys=meta_keys)
]
val_pipeline = [
    dict(type='RandomViewNormalize', center_joint=1, test_mode=True),
    dict(type='SortedResampleFrames', clip_len=clip_len, test_mode=True),
    dict(type='PoseDecode'),
    dict(type='RelativeToJoint', joint=2),
    dict(type='FormatGCNInput', num_person=1),
    dict(type='PackActionInputs', meta_keys=meta_keys)
]
test_pipeline = val_pipeline
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='IndexedRepeatDataset',
        times=5,
        dataset=dict(
            type='SkeletonDataset',
            ann_file='data/skeleton/nwucla_3d.pkl',
            split='train',
            num_classes=10,
            layout='nw-ucla',
            pipeline=train_pipeline)))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader
