"""Multi-process runs on machines with and without GPUs."""
import os
from typing import Optional

import torch
import torch.distributed as dist
from mmengine.config import Config


def distributed_backend() -> str:
    """``'nccl'`` when this process can use a GPU, else ``'gloo'``."""
    return 'nccl' if torch.cuda.is_available() else 'gloo'


def prepare_distributed(cfg: Config, launcher: Optional[str]) -> Config:
    """Make ``launcher='pytorch'`` (torchrun) work on CPU-only machines.

    mmengine's ``init_dist('pytorch')`` always calls
    ``torch.cuda.set_device`` and wraps the model in DDP with
    ``device_ids=[LOCAL_RANK]``, both of which fail without CUDA. On such a
    machine the process group is initialised here with gloo from torchrun's
    environment (mmengine then sees it initialised and skips its own
    ``init_dist``) and the DDP wrapper is told to use no device ids. With
    GPUs nothing changes except that the backend defaults to nccl.

    Args:
        cfg (Config): Run config (``env_cfg.dist_cfg`` and
            ``model_wrapper_cfg`` are edited in place).
        launcher (str, optional): ``'none'``, ``'pytorch'``, ``'slurm'`` or
            ``'mpi'``.

    Returns:
        Config: ``cfg``.
    """
    if launcher in (None, 'none'):
        return cfg
    backend = distributed_backend()
    env_cfg = cfg.setdefault('env_cfg', {})
    dist_cfg = env_cfg.setdefault('dist_cfg', {})
    if backend == 'gloo' or dist_cfg.get('backend') is None:
        dist_cfg['backend'] = backend
    if backend == 'nccl':
        return cfg
    if launcher == 'pytorch' and not dist.is_initialized():
        os.environ.setdefault('LOCAL_RANK', '0')
        dist.init_process_group(backend='gloo')
    wrapper = cfg.get('model_wrapper_cfg') or dict(
        type='MMDistributedDataParallel',
        broadcast_buffers=False,
        find_unused_parameters=cfg.get('find_unused_parameters', False))
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper
    return cfg
