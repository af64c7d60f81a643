"""Save and restore the random streams so a resumed run continues exactly."""
from typing import Dict, Iterator, List, Optional

from mmaction.registry import HOOKS
from mmengine.dist import all_gather_object, get_rank, get_world_size
from mmengine.hooks import CheckpointHook, Hook
from mmengine.runner import IterBasedTrainLoop

from mmcsre.utils import get_global_rng_state, set_global_rng_state


class _RestoreAfterSkip:
    """Iterator proxy for ``IterBasedTrainLoop.dataloader_iterator``: lets the
    loop skip its first ``skip`` batches (mmengine replays them on resume),
    then restores the saved random states right before the first batch that is
    trained on, and hands the loop its own iterator back."""

    def __init__(self, loop: IterBasedTrainLoop, skip: int,
                 state: Dict) -> None:
        self.loop = loop
        self.inner = loop.dataloader_iterator
        self.skip = skip
        self.state = state

    def __iter__(self) -> Iterator:
        return self

    def __next__(self):
        if self.skip > 0:
            self.skip -= 1
            return next(self.inner)
        set_global_rng_state(self.state)
        self.loop.dataloader_iterator = self.inner
        return next(self.inner)


@HOOKS.register_module()
class ResumableRandomnessHook(Hook):
    """Make ``--resume`` continue bit for bit, with random data pipelines.

    mmengine restores the model, optimizer, schedulers and message hub on
    resume, but not the global random streams that transforms such as
    ``UniformSampleFrames`` (with ``num_workers=0``), dropout and random
    sampling draw from, and it builds the sampler with a freshly drawn
    seed. This hook:

    * stores Python's, numpy's and torch's (CPU and CUDA) global states of
      every rank and the training sampler's seed in each checkpoint's
      ``meta`` (``rng_states``, ``sampler_seed``), as tensors and ints that
      ``torch.load(weights_only=True)`` reads;
    * on resume puts them back just before the first trained batch is
      drawn (for iteration-based loops after mmengine has replayed the
      batches it skips);
    * runs validation without moving the global streams, so training draws
      the same numbers whether or not (and however often) it validates.

    With it, training 2 epochs equals training 1 epoch, resuming and
    training 1 more, bit for bit, with and without ``--deterministic`` and
    with non-persistent worker processes (mmengine seeds each worker from
    the run's seed, rank and worker id at every epoch). Exactness needs the
    same world size, a checkpoint at an epoch boundary for epoch-based
    loops, and ``persistent_workers=False`` when ``num_workers > 0`` (a
    persistent worker's stream carries over epochs and is not saved); the
    hook warns when one of these does not hold.
    """

    priority = 'VERY_HIGH'

    def __init__(self) -> None:
        self._resume_state: Optional[Dict] = None
        self._val_state: Optional[Dict] = None
        self._gathered: Optional[List[Dict]] = None

    # -- saving -----------------------------------------------------------
    def before_save_checkpoint(self, runner, checkpoint: Dict) -> None:
        """Add every rank's random states and the sampler seed to
        ``checkpoint['meta']``.

        Checkpoints are written by rank 0 only, so with several processes
        the states are gathered beforehand, on every rank, at the points
        where a checkpoint can be saved (end of an epoch, a checkpoint
        iteration, after validation).

        Args:
            runner (Runner): The runner.
            checkpoint (dict): Checkpoint being saved (edited in place).
        """
        if get_world_size() > 1 and self._gathered is not None:
            states = self._gathered
        else:
            states = [get_global_rng_state()]
        meta = checkpoint.setdefault('meta', {})
        meta['rng_states'] = states
        seed = self._sampler_seed(runner)
        if seed is not None:
            meta['sampler_seed'] = seed

    def _gather(self) -> None:
        if get_world_size() > 1:
            self._gathered = all_gather_object(get_global_rng_state())

    def after_train_epoch(self, runner) -> None:
        """Gather the ranks' states for the epoch's checkpoint.

        Args:
            runner (Runner): The runner.
        """
        self._gather()

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs=None) -> None:
        """Gather the ranks' states when an iteration checkpoint is due.

        Args:
            runner (Runner): The runner.
            batch_idx (int): Index of the batch in the epoch.
            data_batch (dict, optional): The batch (unused).
            outputs (dict, optional): Step outputs (unused).
        """
        if get_world_size() > 1 and self._iteration_checkpoint_due(runner):
            self._gather()

    @staticmethod
    def _iteration_checkpoint_due(runner) -> bool:
        for hook in getattr(runner, 'hooks', []):
            if isinstance(hook, CheckpointHook) and not hook.by_epoch:
                return hook.every_n_train_iters(runner, hook.interval) or (
                    hook.save_last and hook.is_last_train_iter(runner))
        return False

    # -- resuming ---------------------------------------------------------
    def after_load_checkpoint(self, runner, checkpoint: Dict) -> None:
        """Keep the saved states of a checkpoint being resumed from.

        Args:
            runner (Runner): The runner.
            checkpoint (dict): The loaded checkpoint.
        """
        if not getattr(runner, '_resume', False):
            return  # load_from: weights only, the run's own seed stands
        meta = checkpoint.get('meta', {})
        self._resume_state = dict(
            rng_states=meta.get('rng_states'),
            sampler_seed=meta.get('sampler_seed'),
            epoch=meta.get('epoch', 0),
            iter=meta.get('iter', 0))

    def before_train(self, runner) -> None:
        """Put the saved random states and sampler seed back.

        Args:
            runner (Runner): The runner.
        """
        saved, self._resume_state = self._resume_state, None
        if saved is None:
            return
        states: Optional[List[Dict]] = saved['rng_states']
        if not states:
            runner.logger.warning(
                'resumed from a checkpoint without random states (saved '
                'without ResumableRandomnessHook): the resumed run draws '
                'different augmentations than an uninterrupted one')
            return
        if len(states) != get_world_size():
            runner.logger.warning(
                f'checkpoint holds random states of {len(states)} ranks, '
                f'this run has {get_world_size()}: random streams are not '
                'restored (the run continues, but not bit for bit)')
            return
        self._restore_sampler_seed(runner, saved['sampler_seed'])
        self._warn_inexact(runner, saved)
        state = states[get_rank()]
        loop = runner.train_loop
        if isinstance(loop, IterBasedTrainLoop) and loop.iter > 0:
            loop.dataloader_iterator = _RestoreAfterSkip(
                loop, loop.iter, state)
        else:
            set_global_rng_state(state)
        runner.logger.info('restored the random states of the checkpoint')

    # -- validation leaves the streams alone ------------------------------
    def before_val(self, runner) -> None:
        """Remember the random states before validating.

        Args:
            runner (Runner): The runner.
        """
        self._val_state = get_global_rng_state()

    def after_val_epoch(self, runner, metrics=None) -> None:
        """Put the random states back before anything (e.g. a best checkpoint)
        records them.

        Args:
            runner (Runner): The runner.
            metrics (dict, optional): Validation metrics (unused).
        """
        if self._val_state is not None:
            set_global_rng_state(self._val_state)
        self._gather()  # a best checkpoint may follow

    def after_val(self, runner) -> None:
        """Put the random states back, once validation is over.

        Args:
            runner (Runner): The runner.
        """
        if self._val_state is not None:
            set_global_rng_state(self._val_state)
            self._val_state = None

    # -- helpers ----------------------------------------------------------
    @staticmethod
    def _train_sampler(runner):
        loader = runner.train_loop.dataloader
        sampler = getattr(loader, 'sampler', None)
        if sampler is not None and not hasattr(sampler, 'seed'):
            batch_sampler = getattr(loader, 'batch_sampler', None)
            sampler = getattr(batch_sampler, 'sampler', None)
        return sampler if hasattr(sampler, 'seed') else None

    def _sampler_seed(self, runner) -> Optional[int]:
        try:
            sampler = self._train_sampler(runner)
        except (AttributeError, RuntimeError):  # no train loop (test)
            return None
        return None if sampler is None else int(sampler.seed)

    def _restore_sampler_seed(self, runner, seed: Optional[int]) -> None:
        sampler = self._train_sampler(runner)
        if seed is not None and sampler is not None and sampler.seed != seed:
            runner.logger.info(f'sampler seed {sampler.seed} -> {seed} '
                               '(from the checkpoint)')
            sampler.seed = seed

    @staticmethod
    def _warn_inexact(runner, saved: Dict) -> None:
        loop = runner.train_loop
        loader = loop.dataloader
        if getattr(loader, 'persistent_workers', False) and \
                getattr(loader, 'num_workers', 0) > 0:
            runner.logger.warning(
                'persistent_workers=True: the workers\' random streams are '
                'not saved, so the resumed augmentations differ from an '
                'uninterrupted run (set persistent_workers=False for a '
                'bit-exact resume)')
        if not isinstance(loop, IterBasedTrainLoop) and \
                saved['iter'] != saved['epoch'] * len(loader):
            runner.logger.warning(
                f'resuming an epoch-based run from iteration {saved["iter"]}'
                f' (not the end of epoch {saved["epoch"]}): the epoch is '
                'restarted, so the run is not bit-exact')
