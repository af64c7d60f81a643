# Runtime shared by every mmcsre config.
default_scope = 'mmaction'
custom_imports = dict(imports=['mmcsre'], allow_failed_imports=False)

default_hooks = dict(
    runtime_info=dict(type='RuntimeInfoHook'),
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, ignore_last=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='CheckpointHook', interval=1, save_best='auto', max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    sync_buffers=dict(type='SyncBuffersHook'))

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'))

log_processor = dict(type='LogProcessor', window_size=20, by_epoch=True)
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='ActionVisualizer', vis_backends=vis_backends)
log_level = 'INFO'
load_from = None
resume = False
# Seeded by default; tools/train.py --seed/--deterministic override it.
randomness = dict(seed=0, diff_rank_seed=False, deterministic=False)
# MemoryBankInitHook sizes contrastive memory banks from the training set
# (no-op without banks); ResumableRandomnessHook saves the random streams in
# checkpoints so that --resume continues bit for bit; NonFiniteGuardHook
# stops training at the first NaN/inf loss or bank/prototype write and never
# saves a non-finite checkpoint (max_skips=N skips up to N such steps).
custom_hooks = [
    dict(type='MemoryBankInitHook'),
    dict(type='ResumableRandomnessHook'),
    dict(type='NonFiniteGuardHook')
]
