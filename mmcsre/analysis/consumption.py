"""Training consumption of a config: time per iteration and epoch and peak
memory, measured on a bounded number of real training iterations."""
import concurrent.futures
import multiprocessing
import os.path as osp
import resource
import sys
import tempfile
import time
import warnings
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner
from tqdm import tqdm

from .errors import AnalysisError


class _StopTraining(Exception):
    """Raised by :class:`_IterationTimer` once enough iterations ran."""


class _IterationTimer(Hook):
    """Records when every training iteration starts and ends and stops training
    after ``total`` iterations."""

    priority = 'LOWEST'

    def __init__(self, total: int, progress: bool = True) -> None:
        self.total = total
        self.starts: List[float] = []
        self.ends: List[float] = []
        self.bar = tqdm(total=total, desc='training', disable=not progress)

    def before_train(self, runner) -> None:
        """Reset the CUDA peak and mark the first iteration's start."""
        if torch.cuda.is_available():
            torch.cuda.reset_peak_memory_stats()
        self.ends.append(time.perf_counter())  # the first iteration's start

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        """Mark the start of the train step."""
        self.starts.append(time.perf_counter())

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None) -> None:
        """Mark the end of the iteration; stop after ``total``."""
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        self.ends.append(time.perf_counter())
        self.bar.update(1)
        if len(self.starts) >= self.total:
            self.bar.close()
            raise _StopTraining


def peak_host_memory() -> int:
    """Peak resident set size of this process so far, in bytes (data loader
    worker processes are not included)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == 'darwin' else peak * 1024


def _measure_cfg(cfg: Config, iters: int, warmup: int, progress: bool) -> Dict:
    """Train ``warmup + iters`` iterations of a prepared config."""
    with warnings.catch_warnings():
        # A spawned measuring process meets mmengine's switch to 'fork'.
        warnings.filterwarnings('ignore', 'Multi-processing start method')
        runner = Runner.from_cfg(cfg)
    timer = _IterationTimer(warmup + iters, progress)
    runner.register_hook(timer)
    try:
        runner.train()
    except _StopTraining:
        pass
    else:
        raise AnalysisError(f'training ended after {len(timer.starts)} '
                            f'iterations, before the {warmup + iters} asked '
                            'for; lower --iters/--warmup')
    # Iteration i runs from the end of i - 1 (data loading included).
    wall = np.diff(timer.ends)[warmup:]
    step = (np.array(timer.ends[1:]) - np.array(timer.starts))[warmup:]
    on_gpu = next(runner.model.parameters()).is_cuda
    iters_per_epoch = len(runner.train_dataloader)
    return dict(
        device=torch.cuda.get_device_name() if on_gpu else 'cpu',
        memory_kind='peak CUDA memory allocated'
        if on_gpu else 'peak host RSS of the training process',
        peak_memory=int(torch.cuda.max_memory_allocated())
        if on_gpu else peak_host_memory(),
        iters=int(len(wall)),
        warmup=warmup,
        batch_size=int(runner.train_dataloader.batch_size or 0),
        iters_per_epoch=int(iters_per_epoch),
        time_per_iter=float(np.median(wall)),
        step_time_per_iter=float(np.median(step)),
        time_per_epoch=float(np.median(wall)) * iters_per_epoch)


def measure_training(config: str,
                     iters: int = 20,
                     warmup: int = 3,
                     cfg_options: Optional[Dict] = None,
                     progress: bool = True) -> Dict:
    """Run a config's real training loop (its data, optimizer, hooks such as
    ``MemoryBankInitHook``) for ``warmup + iters`` iterations.

    Validation, checkpoints and logging are off; work files go to a
    temporary folder. Peak memory is CUDA's ``max_memory_allocated`` on a
    GPU, else the process's peak RSS (run each config in a fresh process,
    :func:`measure_in_subprocess`, to compare them).

    Args:
        config (str): Config file.
        iters (int): Timed iterations. Defaults to 20.
        warmup (int): Untimed first iterations. Defaults to 3.
        cfg_options (dict, optional): Config overrides.
        progress (bool): Show a progress bar. Defaults to True.

    Returns:
        dict: ``device``, ``memory_kind``, ``peak_memory`` (bytes),
        ``iters``, ``warmup``, ``batch_size``, ``iters_per_epoch``,
        ``time_per_iter`` (median s, data loading included),
        ``step_time_per_iter`` (median s of the train step alone),
        ``time_per_epoch`` (s, ``time_per_iter * iters_per_epoch``).
    """
    if not osp.isfile(config):
        raise AnalysisError(f'{config}: no such file')
    if iters < 1 or warmup < 0:
        raise AnalysisError(f'need iters >= 1 and warmup >= 0, got {iters} '
                            f'and {warmup}')
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    for key in ('val', 'test'):
        cfg[f'{key}_dataloader'] = cfg[f'{key}_cfg'] = None
        cfg[f'{key}_evaluator'] = None
    cfg.default_hooks = dict(
        cfg.get('default_hooks', {}), checkpoint=None, logger=None)
    cfg.log_level = 'WARNING'
    cfg.visualizer = None
    cfg.load_from, cfg.resume = None, False
    with tempfile.TemporaryDirectory(prefix='mmcsre-consumption-') as tmp:
        cfg.work_dir = tmp
        return _measure_cfg(cfg, iters, warmup, progress)


def measure_in_subprocess(config: str, **kwargs) -> Dict:
    """:func:`measure_training` in a fresh spawned process, so that peak
    host memory is that config's alone."""
    context = multiprocessing.get_context('spawn')
    with concurrent.futures.ProcessPoolExecutor(
            max_workers=1, mp_context=context) as pool:
        return pool.submit(measure_training, config, **kwargs).result()


def format_duration(seconds: float) -> str:
    """A duration for the tables: seconds up to 10 minutes, then minutes.

    Args:
        seconds (float): The duration.

    Returns:
        str: ``'0.84 s'`` below 10 s, ``'12.3 s'`` below 10 min, else
        ``'12.34 min'``.
    """
    if seconds < 10:
        return f'{seconds:.2f} s'
    if seconds < 600:
        return f'{seconds:.1f} s'
    return f'{seconds / 60:.2f} min'


def duration_unit(seconds: Sequence[float]) -> Tuple[float, str, str]:
    """The unit a plot of these durations uses, as :func:`format_duration`
    picks it for the longest.

    Args:
        seconds (Sequence[float]): The durations.

    Returns:
        tuple[float, str, str]: (seconds per unit, unit name, value format).
    """
    longest = max(seconds, default=0.0)
    if longest >= 600:
        return 60.0, 'min', '{:.2f}'
    return 1.0, 's', '{:.2f}' if longest < 10 else '{:.1f}'
