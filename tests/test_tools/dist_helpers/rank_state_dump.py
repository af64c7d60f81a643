"""Test-only hook: every rank saves its model buffers and iteration count at
the end of training, so a test can compare the ranks."""
import os.path as osp

import torch
from mmaction.registry import HOOKS
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper


@HOOKS.register_module()
class RankStateDumpHook(Hook):
    """Write ``rank{R}_state.pth`` with buffers and iteration count."""

    priority = 'LOWEST'

    def after_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) \
            else runner.model
        state = dict(
            buffers={
                k: v.detach().cpu()
                for k, v in model.named_buffers()
            },
            params={
                k: v.detach().cpu()
                for k, v in model.named_parameters()
            },
            iters=runner.iter,
            world_size=runner.world_size)
        torch.save(state,
                   osp.join(runner.work_dir, f'rank{get_rank()}_state.pth'))
