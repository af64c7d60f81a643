"""Stop training at the first non-finite loss (or skip a bounded number of such
steps), and never save a checkpoint that holds NaN or inf weights."""
from typing import Callable, Dict, List, Optional, Tuple

import torch
from mmaction.registry import HOOKS
from mmengine.dist import all_reduce, get_world_size
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import EpochBasedTrainLoop
from mmengine.utils import is_list_of

from mmcsre.utils import (NonFiniteError, NonFiniteLossError,
                          NonFiniteStateError)

# Checkpoint entries holding model weights.
STATE_KEYS = ('state_dict', 'ema_state_dict')


def loss_tensors(losses: Dict) -> Tuple[List[str], List[torch.Tensor]]:
    """The loss terms of a model's losses dict, one entry per tensor.

    Args:
        losses (dict): ``{name: tensor or list of tensors}`` as returned by
            ``model(..., mode='loss')``; as in mmengine's ``parse_losses``,
            the terms are the keys that contain 'loss'.

    Returns:
        tuple[list[str], list[torch.Tensor]]: Names (repeated for a list
        term) and tensors.
    """
    names, tensors = [], []
    for name, value in losses.items():
        if 'loss' not in name:
            continue
        values = [value] if isinstance(value, torch.Tensor) else (
            value if is_list_of(value, torch.Tensor) else [])
        names += [name] * len(values)
        tensors += values
    return names, tensors


def describe(name: str, tensor: torch.Tensor) -> str:
    """``name=value`` for a scalar, ``name (k/n non-finite)`` otherwise."""
    tensor = tensor.detach()
    if tensor.numel() == 1:
        return f'{name}={tensor.item()}'
    num_bad = int((~torch.isfinite(tensor)).sum())
    return f'{name} ({num_bad}/{tensor.numel()} non-finite)'


def non_finite_entries(checkpoint: Dict) -> List[str]:
    """The floating-point tensors of a checkpoint's model weights that hold NaN
    or inf, as ``'<key>: <name> (k/n non-finite)'``.

    Args:
        checkpoint (dict): A checkpoint as saved by mmengine's Runner.

    Returns:
        list[str]: One entry per offending tensor; empty if all are finite.
    """
    named = [(f'{key}: {name}', value) for key in STATE_KEYS
             if isinstance(checkpoint.get(key), dict)
             for name, value in checkpoint[key].items()
             if isinstance(value, torch.Tensor) and value.is_floating_point()]
    if not named:
        return []
    finite = torch.stack([torch.isfinite(v).all().cpu() for _, v in named])
    if bool(finite.all()):
        return []
    return [
        describe(name, value)
        for (name, value), ok in zip(named, finite.tolist()) if not ok
    ]


@HOOKS.register_module()
class NonFiniteGuardHook(Hook):
    """Refuse non-finite training steps and checkpoints.

    In ``before_train`` the hook wraps two methods of the runner's model
    (instance attributes, removed again in ``after_train``; a model wrapper's
    ``module`` gets the ``parse_losses`` one):

    - ``parse_losses``: every loss term of the losses dict (keys with 'loss':
      ``loss_cls``, ``loss_spatial``, FR Head's ``loss_<stage>``, ...;
      tensors or lists of tensors) and the total are checked with
      ``torch.isfinite`` before ``optim_wrapper.update_params`` runs: one
      stacked check and one host sync per iteration, the flag all-reduced
      under torch.distributed so every rank decides the same.
    - ``train_step``: catches :class:`~mmcsre.utils.NonFiniteError` raised
      anywhere in the step, e.g. by a memory bank or FR Head's prototypes
      refusing a non-finite write (:class:`~mmcsre.utils.NonFiniteStateError`).

    With ``max_skips=0`` training stops with the error, which names the
    iteration (as logged), the epoch and the non-finite terms or the module.
    With ``max_skips=N > 0`` the step is skipped instead: no backward, no
    optimizer step, gradients zeroed, and the model's buffers (memory banks,
    prototypes, batch-norm statistics) restored to their state before the
    step, from a copy taken before every step (one copy of the buffers, the
    price of this mode); a warning is logged and, after more than N skipped
    steps in total, training stops. A checkpoint whose model weights hold NaN
    or inf is refused in ``before_save_checkpoint`` (an error), so none is
    saved as the latest or the best.

    Args:
        max_skips (int): Non-finite steps to skip before stopping; 0 stops
            at the first. Defaults to 0.
        check_checkpoints (bool): Refuse to save checkpoints with non-finite
            weights. Defaults to True.
    """

    # Last, so the checkpoint checked is the one saved (EMAHook etc. first).
    priority = 'LOWEST'

    def __init__(self,
                 max_skips: int = 0,
                 check_checkpoints: bool = True) -> None:
        if max_skips < 0:
            raise ValueError(f'max_skips must be >= 0, got {max_skips}')
        self.max_skips = max_skips
        self.check_checkpoints = check_checkpoints
        self.num_skips = 0
        self._runner = None
        self._batch_idx: Optional[int] = None
        self._voted = False
        self._patched: List[Tuple[object, str, Optional[Callable]]] = []

    # -- wrapping ---------------------------------------------------------

    def before_train(self, runner) -> None:
        """Wrap the model's ``parse_losses`` and ``train_step``."""
        self._runner = runner
        self.num_skips = 0
        model = runner.model
        module = model.module if is_model_wrapper(model) else model
        self._patch(module, 'parse_losses', self._guard_parse_losses)
        self._patch(model, 'train_step', self._guard_train_step)

    def after_train(self, runner) -> None:
        """Put the model's own methods back."""
        for obj, name, own in reversed(self._patched):
            if own is None:
                vars(obj).pop(name, None)
            else:
                setattr(obj, name, own)
        self._patched = []

    def _patch(self, obj, name: str, guard: Callable) -> None:
        """Replace ``obj.name`` by ``guard(obj.name)`` on the instance."""
        original = getattr(obj, name)
        if getattr(original, 'non_finite_guard', None) is self:
            return  # already wrapped by this hook
        self._patched.append((obj, name, vars(obj).get(name)))
        setattr(obj, name, guard(original))

    def _guard_parse_losses(self, parse_losses: Callable) -> Callable:
        """``parse_losses`` that checks the terms and the total."""

        def guarded(losses: Dict):
            loss, log_vars = parse_losses(losses)
            self.check_losses(losses, loss)
            return loss, log_vars

        guarded.non_finite_guard = self  # type: ignore[attr-defined]
        return guarded

    def _guard_train_step(self, train_step: Callable) -> Callable:
        """``train_step`` that stops or skips on a non-finite error."""

        def guarded(*args, **kwargs):
            self._voted = False
            snapshot = self._snapshot() if self.max_skips else None
            try:
                return train_step(*args, **kwargs)
            except NonFiniteError as error:
                if not self._voted:
                    # Join the one vote per step the other ranks hold in
                    # parse_losses, so they stop or skip with this rank.
                    self._vote(torch.ones(()))
                return self._on_non_finite(error, snapshot)

        guarded.non_finite_guard = self  # type: ignore[attr-defined]
        return guarded

    # -- checks -----------------------------------------------------------

    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch: Optional[Dict] = None) -> None:
        """Remember the batch index for the messages."""
        self._batch_idx = batch_idx

    def _vote(self, bad: torch.Tensor) -> int:
        """How many ranks found a non-finite value this step (one all-reduce
        under torch.distributed, one host sync)."""
        self._voted = True
        bad = bad.detach().float().reshape(1)
        if get_world_size() > 1:
            all_reduce(bad, op='sum')
        return int(bad.item())

    def check_losses(self, losses: Dict, loss: torch.Tensor) -> None:
        """Check every loss term and the total on every rank.

        Args:
            losses (dict): The model's losses dict.
            loss (torch.Tensor): The total that would be back-propagated.

        Raises:
            NonFiniteLossError: If a term or the total is NaN or infinite on
                any rank.
        """
        names, tensors = loss_tensors(losses)
        names.append('loss (total)')
        tensors.append(loss)
        device = loss.device
        finite = torch.stack(
            [torch.isfinite(t.detach()).all().to(device) for t in tensors])
        if not self._vote(~finite.all()):
            return
        bad = [(n, t) for n, t, ok in zip(names, tensors, finite.tolist())
               if not ok]
        terms = [n for n, _ in bad]
        text = ', '.join(describe(n, t) for n, t in bad) or \
            'finite here, non-finite on another rank'
        raise NonFiniteLossError(f'non-finite loss: {text}', terms=terms)

    def _location(self) -> str:
        """'iteration I (epoch E, batch B/N)', numbered as logged."""
        runner = self._runner
        where = f'iteration {runner.iter + 1}'
        loop = getattr(runner, '_train_loop', None)
        if isinstance(loop, EpochBasedTrainLoop):
            batch = '' if self._batch_idx is None else \
                f', batch {self._batch_idx + 1}/{len(loop.dataloader)}'
            where += f' (epoch {runner.epoch + 1}{batch})'
        return where

    def _module_name(self, error: NonFiniteError) -> str:
        """' in <qualified name>' of the module that raised, if known."""
        module = getattr(error, 'module', None)
        if module is None:
            return ''
        for name, candidate in self._model().named_modules():
            if candidate is module:
                return f' in {name or "the model"}'
        return ''

    def _on_non_finite(self, error: NonFiniteError,
                       snapshot: Optional[Dict[str, torch.Tensor]]) -> Dict:
        """Skip the step (bounded by ``max_skips``) or stop training."""
        runner = self._runner
        context = (f'NonFiniteGuardHook: {self._location()}'
                   f'{self._module_name(error)}')
        if self.max_skips and self.num_skips < self.max_skips:
            self.num_skips += 1
            runner.optim_wrapper.zero_grad()
            self._restore(snapshot)
            runner.logger.warning(
                f'{context}: {error}; step skipped (no optimizer step, '
                f'buffers restored), {self.num_skips}/{self.max_skips} '
                'skips used')
            return {}
        limit = (f'; more than max_skips={self.max_skips} non-finite steps'
                 if self.max_skips else '')
        hint = '; lower the learning rate or clip gradients ' \
            '(optim_wrapper.clip_grad)' + (
                '' if self.max_skips else
                ', or let NonFiniteGuardHook(max_skips=N) skip such steps')
        stop = error.with_context(context)
        stop.args = (stop.args[0] + limit + hint, )
        runner.logger.error(str(stop))
        raise stop from error

    def _model(self) -> torch.nn.Module:
        """The runner's model, unwrapped."""
        model = self._runner.model
        return model.module if is_model_wrapper(model) else model

    def _snapshot(self) -> Dict[str, torch.Tensor]:
        """A copy of every buffer of the model."""
        return {
            name: buf.detach().clone()
            for name, buf in self._model().named_buffers()
        }

    @torch.no_grad()
    def _restore(self, snapshot: Optional[Dict[str, torch.Tensor]]) -> None:
        """Copy the buffers back in place (the tensors keep their identity,
        which DDP's buffer broadcast relies on)."""
        if snapshot is None:
            return
        for name, buf in self._model().named_buffers():
            saved = snapshot.get(name)
            if saved is not None and saved.shape == buf.shape:
                buf.copy_(saved)

    def before_save_checkpoint(self, runner, checkpoint: Dict) -> None:
        """Refuse a checkpoint whose model weights hold NaN or inf.

        Args:
            runner (Runner): The runner.
            checkpoint (dict): The checkpoint about to be saved.

        Raises:
            NonFiniteStateError: If a floating-point tensor of
                ``state_dict`` (or ``ema_state_dict``) is not finite.
        """
        if not self.check_checkpoints:
            return
        bad = non_finite_entries(checkpoint)
        if not bad:
            return
        shown = ', '.join(bad[:5]) + (', ...' if len(bad) > 5 else '')
        meta = checkpoint.get('meta') or {}
        message = ('NonFiniteGuardHook: refusing to save the checkpoint of '
                   f"epoch {meta.get('epoch', runner.epoch)}, iteration "
                   f"{meta.get('iter', runner.iter)}: {len(bad)} weight "
                   f'tensor(s) hold NaN or inf: {shown}')
        runner.logger.error(message)
        raise NonFiniteStateError(message, num_rows=len(bad))
