"""A label-aware memory bank with hybrid hard/random sampling and InfoNCE."""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.distributed as dist
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmengine.model import BaseModule

from mmcsre.utils import check_finite_write, preserve_global_rng

SAMPLINGS = ('H', 'R', 'R+H')
ANCHOR_RULES = ('available', 'complete')
STORAGE_DTYPES = dict(
    float32=torch.float32, float16=torch.float16, bfloat16=torch.bfloat16)
# Masked-out similarities: finite (an all-masked row must not give NaN
# gradients through logsumexp) but far below any cosine / temperature.
_MASKED = -1e4
_NEG_INF = float('-inf')
# A low-precision bank is upcast for the similarity matmul this many
# elements at a time (16 MiB of fp32), never as a whole.
_UPCAST_ELEMENTS = 1 << 22

_Set = Tuple[torch.Tensor, torch.Tensor]  # (indices, is_valid), each (B, k)


def _dist_world() -> Tuple[int, int]:
    """(world size, rank) under torch.distributed, else (1, 0)."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_world_size(), dist.get_rank()
    return 1, 0


def _gather_sizes(size: int, device: torch.device) -> List[int]:
    """Every rank's ``size``, in rank order."""
    world, _ = _dist_world()
    if world == 1:
        return [size]
    size = torch.tensor([size], device=device)
    sizes = [torch.zeros_like(size) for _ in range(world)]
    dist.all_gather(sizes, size)
    return [int(s.item()) for s in sizes]


def _all_gather_cat(tensor: torch.Tensor,
                    sizes: Optional[List[int]] = None) -> torch.Tensor:
    """Concatenate ``tensor`` (B, ...) from every rank, in rank order; batch
    sizes may differ between ranks (``sizes``, when known, saves one
    exchange)."""
    world, _ = _dist_world()
    if world == 1:
        return tensor
    if sizes is None:
        sizes = _gather_sizes(tensor.shape[0], tensor.device)
    padded = tensor.new_zeros((max(sizes), ) + tensor.shape[1:])
    padded[:tensor.shape[0]] = tensor
    chunks = [torch.zeros_like(padded) for _ in range(world)]
    dist.all_gather(chunks, padded)
    return torch.cat([c[:n] for c, n in zip(chunks, sizes)])


def _topk_indices(score: torch.Tensor, k: int, largest: bool) -> torch.Tensor:
    """Column indices (B, k) of the ``k`` largest (smallest) entries of each
    row of ``score`` (B, N), in no particular order.

    Exact, as ``topk(sorted=False)`` (the same values; which of several equal
    ones is implementation-defined in both). Rows much wider than ``k`` are not
    ranked whole: with G about sqrt(N / k) and M = N // G, the G columns
    ``j + i * M`` (i < G) are group ``j``. Each group whose maximum exceeds the
    k-th largest entry holds one of the k largest entries, so there are fewer
    than k such groups: the k largest entries lie in the k groups with the
    largest maxima (or in the few columns left over). ``topk`` runs on the M
    group maxima, then on those k groups' G k columns: about 2 sqrt(N k)
    entries instead of N.
    """
    num_rows, width = score.shape
    group = int((width / max(k, 1))**0.5)
    if group < 4:
        return score.topk(k, 1, largest=largest, sorted=False)[1]
    if not largest:
        return _topk_indices(-score, k, True)
    score = score.contiguous()
    num_groups = width // group  # >= 4 k - 1 >= k
    head = num_groups * group
    grouped = score[:, :head].view(num_rows, group, num_groups)
    best = grouped.amax(1).topk(k, 1, sorted=False)[1]  # (B, k) groups
    values = grouped.gather(2, best.unsqueeze(1).expand(-1, group, -1))
    values = values.flatten(1)  # (B, G k): member i of the j-th best group
    if head < width:  # the columns left over belong to no group
        values = torch.cat([values, score[:, head:]], 1)
    pick = values.topk(k, 1, sorted=False)[1]
    member = pick // k
    cols = best.gather(1, pick % k)
    cols = cols + member * num_groups
    if head < width:
        leftover = pick >= group * k
        cols = torch.where(leftover, pick - group * k + head, cols)
    return cols


def _weighted_rows(bank: torch.Tensor,
                   idx: torch.Tensor,
                   weight: torch.Tensor,
                   patch: Dict,
                   bags: Optional[torch.Tensor] = None,
                   num_bags: int = 0) -> torch.Tensor:
    """``sum_k weight[b, k] * bank[idx[b, k]]`` (B, D) in fp32, with the bank
    as it was before the write recorded in ``patch``.

    ``idx`` and ``weight`` are (B, K), or 1-D with ``bags`` (non-decreasing
    bag of each entry) and ``num_bags`` B. ``embedding_bag`` runs in the
    bank's dtype (a fp16 / bf16 sum is rounded to it); the rows overwritten
    since the forward pass are corrected with ``weight * (old - new)`` in fp32.
    """
    if bank._version != patch.get('version', bank._version):
        raise RuntimeError('the memory bank was written again before '
                           'backward of the loss computed against it')
    offsets = None
    if bags is not None:
        counts = torch.bincount(bags, minlength=num_bags)
        offsets = torch.cumsum(counts, 0) - counts
    out = F.embedding_bag(
        idx,
        bank,
        offsets,
        per_sample_weights=weight.to(bank.dtype),
        mode='sum').float()
    written = patch.get('written')
    if written is not None and len(written):
        lookup = torch.full((bank.shape[0], ),
                            -1,
                            dtype=torch.long,
                            device=bank.device)
        lookup[written] = torch.arange(len(written), device=bank.device)
        pos = lookup[idx]
        hit = (pos >= 0).nonzero(as_tuple=True)  # usually few selections
        delta = patch['old'].float() - bank.index_select(0, written).float()
        rows = hit[0] if bags is None else bags[hit[0]]
        out = out.index_add(0, rows,
                            delta[pos[hit]] * weight[hit].float().unsqueeze(1))
    return out


class _SelectedSimilarity(torch.autograd.Function):
    """Similarities ``query[b] . bank[idx[b, k]]``, already computed (no grad)
    as ``values`` (B, K); the gradient w.r.t. the query is an ``embedding_bag``
    weighted sum of the selected bank rows, so neither the (B, L) matrix nor a
    (B, K, D) gather is kept for autograd.

    The bank is written in place right after the forward pass. ``patch``
    receives, before that write, the written slots and their old rows;
    backward adds ``g * (old - new)`` for selected slots among them, so the
    gradient is exactly that of the bank the loss was computed against.
    """

    @staticmethod
    def forward(ctx, query: torch.Tensor, bank: torch.Tensor,
                idx: torch.Tensor, values: torch.Tensor,
                patch: Dict) -> torch.Tensor:
        """The (B, K) similarities ``values`` at bank rows ``idx``."""
        ctx.bank, ctx.patch = bank, patch  # bank: no version check, see doc
        ctx.save_for_backward(idx)
        return values.clone()

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        """Gradient with respect to the query (B, D) only."""
        idx, = ctx.saved_tensors
        grad_query = _weighted_rows(ctx.bank, idx, grad, ctx.patch)
        return grad_query.to(grad.dtype), None, None, None, None


class _ShardedSimilarity(torch.autograd.Function):
    """:class:`_SelectedSimilarity` for a bank sharded over the ranks.

    ``values`` (B, K) are this rank's queries' selected similarities, computed
    on the shards that hold the selected slots; ``slots`` (N, K) are the
    global slots selected for the queries of all ranks. Backward gathers the
    (N, K) gradients, lets each rank sum the rows it holds with
    :func:`_weighted_rows` and all-reduces the (N, D) result: per step
    O(N K + N D) numbers travel instead of the (B, K, D) selected rows.
    Every rank must therefore run backward of the loss, as in DDP training.
    """

    @staticmethod
    def forward(ctx, query: torch.Tensor, values: torch.Tensor,
                slots: torch.Tensor, bank: torch.Tensor, patch: Dict,
                layout: Dict) -> torch.Tensor:
        """The (B, K) similarities ``values``; the rest is kept for
        backward."""
        ctx.bank, ctx.patch, ctx.layout = bank, patch, layout
        ctx.save_for_backward(slots)
        return values.clone()

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        """Gradient with respect to this rank's queries (B, D) only."""
        slots, = ctx.saved_tensors
        world, rank = ctx.layout['world'], ctx.layout['rank']
        sizes, offset = ctx.layout['sizes'], ctx.layout['offset']
        bank = ctx.bank
        if bank._version != ctx.patch.get('version', bank._version):
            # before any collective: every rank raises alike
            raise RuntimeError('the memory bank was written again before '
                               'backward of the loss computed against it')
        grad_all = _all_gather_cat(grad.contiguous(), sizes)
        # the selections of all queries that this rank holds, row by row
        bags, cols = (slots % world == rank).nonzero(as_tuple=True)
        grad_query = _weighted_rows(bank, slots[bags, cols] // world,
                                    grad_all[bags, cols], ctx.patch, bags,
                                    slots.shape[0])
        dist.all_reduce(grad_query)
        grad_query = grad_query[offset:offset + grad.shape[0]]
        return grad_query.to(grad.dtype), None, None, None, None, None


@MODELS.register_module()
class ContrastiveMemoryBank(BaseModule):
    """One memory bank of L2-normalised features, one slot per training sample
    (or a FIFO queue), contrasted against with InfoNCE (CSRE, csre.txt Sec.
    3.3).

    For each anchor, positives are the filled slots with its label and
    negatives the filled slots with another label (its own slot excluded).
    Hard positives are the ``num_hard_pos`` least similar positives, hard
    negatives the ``num_hard_neg`` most similar negatives, random ones are
    drawn uniformly without replacement. Every selected positive forms one
    row ``[s+, s- of one negative set] / tau`` per negative set, target 0;
    the loss is the mean over all rows. This is standard InfoNCE with
    ``exp`` -- csre.txt Eq. 8-9 lost the exponentials in print. With
    ``anchor_rule='available'`` an anchor with fewer candidates than asked
    uses all it has, and is skipped only without any positive or negative;
    ``'complete'`` skips it until the bank holds full candidate sets
    (the official code's rule). ``last_num_valid`` counts the anchors that
    contributed.

    The loss is computed against the bank as it was before the batch; then
    the detached, normalised features are written at ``indices`` (gathered
    from all ranks under torch.distributed, so every rank holds the same
    bank unless it is sharded). Everything is vectorised over the batch: one
    (B, L) similarity matmul without autograd, ``topk`` selections, random
    draws on the device; gradients flow only through the selected
    similarities.

    Three options change how the bank is stored (``docs/memory_bank.md``).
    ``storage_dtype`` 'float16' / 'bfloat16' keeps the features in that
    dtype, upcast a block of rows at a time for an fp32 similarity matmul;
    the backward sums the selected rows with ``embedding_bag`` in that dtype.
    The same features in an fp32 and a low-precision bank give losses within
    1e-4 (fp16) / 1e-3 (bf16) relative (measured: 1e-6 / 7e-6) and
    gradients within 5e-2 / 1e-1 in L2 norm (measured: 1.6e-2 / 2.4e-2; the
    cancellation of positive and negative terms amplifies the rounding of
    the stored rows). ``queue_size=K`` makes the bank a MoCo-style FIFO
    queue of K slots, written in arrival order (all ranks' rows in rank
    order) from ``queue_ptr`` with wrap-around, the oldest entries
    overwritten first; ``indices`` are ignored, so no slot is excluded as
    the anchor's own (an older copy of the same sample in the queue is a
    positive), and ``MemoryBankInitHook`` leaves the K slots alone.
    ``sharded=True`` under torch.distributed keeps global slot ``i`` on rank
    ``i % world`` only (local row ``i // world``): the queries of all ranks
    are gathered, each rank selects candidates on its shard, and the
    per-shard top-k are merged, which is exact for hard sets; random sets
    are drawn per shard and merged by random keys into a uniform draw over
    the whole bank, but not the replicated bank's draw. Checkpoints hold
    the full bank, loadable at any world size, sharded or not: rank 0 keeps
    a host copy of the full bank, updated from the writes every rank
    receives anyway, because mmengine saves from rank 0 alone and saving
    cannot gather.

    Args:
        num_samples (int, optional): Number of slots L, one per training
            sample. None leaves the bank unallocated until
            :meth:`allocate` (called by ``MemoryBankInitHook`` with the
            training set's length) or until a checkpoint is loaded. Must
            be None with ``queue_size``.
        feat_dim (int): Feature size D.
        num_hard_pos (int): Hard positives per anchor. Defaults to 128.
        num_hard_neg (int): Hard negatives per anchor. Defaults to 512.
        num_rand_neg (int): Random negatives per anchor. Defaults to 512.
        num_rand_pos (int): Random positives per anchor (only with
            ``pos_sampling`` 'R' or 'R+H'). Defaults to 128.
        temperature (float): InfoNCE temperature tau. Defaults to 0.8.
        pos_sampling (str): 'H' (hard), 'R' (random) or 'R+H'
            (csre.txt Table 6). Defaults to 'H'.
        neg_sampling (str): 'H', 'R' or 'R+H'. Defaults to 'R+H'.
        anchor_rule (str): Which anchors contribute. ``'available'``: every
            anchor with at least one positive and one negative, using as many
            candidates as exist (fewer than asked while the bank is sparse).
            ``'complete'``: only anchors whose bank holds at least as many
            positives and negatives as each sampled set asks for, as the
            official CSRE code does. Defaults to ``'available'``.
        relative_counts (bool): Read ``num_hard_pos``, ``num_hard_neg``,
            ``num_rand_neg`` and ``num_rand_pos`` as fractions of the bank
            size L (each rounded, at least 1), so one config scales the
            candidate sets to datasets of any size. The official NW-UCLA
            regime (128 / 512 of 5,100 slots) is 0.025 / 0.1. Defaults to
            False.
        seed (int, optional): Seed of the random draws; with the write
            counter it forms a buffer, so a resumed run draws exactly what
            an uninterrupted one would. None derives one from torch's global
            generator without advancing it (builds stay paired with the
            baseline's). Defaults to None.
        storage_dtype (str): dtype of the stored features: 'float32',
            'float16' or 'bfloat16' (half the memory). Similarities are
            always computed in fp32. Defaults to 'float32'.
        queue_size (int, optional): Make the bank a FIFO queue of this many
            slots K, allocated at build, with a ``queue_ptr`` buffer; None
            keeps one slot per training sample. Defaults to None.
        sharded (bool): Under torch.distributed with more than one rank,
            store slot ``i`` on rank ``i % world`` only. Build (or
            allocate) the bank after ``init_process_group``; every rank must
            run forward and backward of its loss each step; DDP must not
            broadcast buffers (mmengine's default ``broadcast_buffers=False``).
            Without torch.distributed it changes nothing. Defaults to False.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    def __init__(self,
                 num_samples: Optional[int],
                 feat_dim: int,
                 num_hard_pos: int = 128,
                 num_hard_neg: int = 512,
                 num_rand_neg: int = 512,
                 num_rand_pos: int = 128,
                 temperature: float = 0.8,
                 pos_sampling: str = 'H',
                 neg_sampling: str = 'R+H',
                 anchor_rule: str = 'available',
                 relative_counts: bool = False,
                 seed: Optional[int] = None,
                 storage_dtype: str = 'float32',
                 queue_size: Optional[int] = None,
                 sharded: bool = False,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        for name, value in (('pos_sampling', pos_sampling), ('neg_sampling',
                                                             neg_sampling)):
            if value not in SAMPLINGS:
                raise ValueError(f'{name} must be one of {SAMPLINGS}, got '
                                 f'{value!r}')
        if anchor_rule not in ANCHOR_RULES:
            raise ValueError(f'anchor_rule must be one of {ANCHOR_RULES}, '
                             f'got {anchor_rule!r}')
        # only the counts the sampling strategies use
        counts = [
            c for c, used in ((num_hard_pos, 'H' in pos_sampling),
                              (num_rand_pos, 'R' in pos_sampling),
                              (num_hard_neg, 'H' in neg_sampling),
                              (num_rand_neg, 'R' in neg_sampling)) if used
        ]
        if relative_counts and not all(0 <= c <= 1 for c in counts):
            raise ValueError('with relative_counts=True the candidate counts '
                             f'are fractions in [0, 1], got {counts}')
        if not (('H' in pos_sampling and num_hard_pos > 0) or
                ('R' in pos_sampling and num_rand_pos > 0)):
            raise ValueError('no positives would be sampled: check '
                             'pos_sampling and num_hard_pos/num_rand_pos')
        if not (('H' in neg_sampling and num_hard_neg > 0) or
                ('R' in neg_sampling and num_rand_neg > 0)):
            raise ValueError('no negatives would be sampled: check '
                             'neg_sampling and num_hard_neg/num_rand_neg')
        if temperature <= 0:
            raise ValueError(f'temperature must be > 0, got {temperature}')
        if storage_dtype not in STORAGE_DTYPES:
            raise ValueError(f'storage_dtype must be one of '
                             f'{tuple(STORAGE_DTYPES)}, got {storage_dtype!r}')
        if queue_size is not None:
            if num_samples is not None:
                raise ValueError(
                    'give num_samples (one slot per training sample) or '
                    'queue_size (a FIFO queue of that many slots), not both')
            if queue_size < 1:
                raise ValueError(f'queue_size must be >= 1, got {queue_size}')
        self.feat_dim = feat_dim
        self.num_hard_pos = num_hard_pos
        self.num_hard_neg = num_hard_neg
        self.num_rand_neg = num_rand_neg
        self.num_rand_pos = num_rand_pos
        self.temperature = temperature
        self.pos_sampling = pos_sampling
        self.neg_sampling = neg_sampling
        self.anchor_rule = anchor_rule
        self.relative_counts = relative_counts
        self.storage_dtype = storage_dtype
        self.queue_size = queue_size
        self.sharded = sharded
        dtype = STORAGE_DTYPES[storage_dtype]
        self.register_buffer('feats', torch.zeros(0, feat_dim, dtype=dtype))
        self.register_buffer('labels', torch.zeros(0, dtype=torch.long))
        self.register_buffer('filled', torch.zeros(0, dtype=torch.bool))
        if seed is None:
            with preserve_global_rng():
                seed = int(torch.randint(2**31 - 1, ()))
        self.register_buffer('seed', torch.tensor(seed, dtype=torch.long))
        self.register_buffer('num_updates', torch.zeros((), dtype=torch.long))
        if queue_size is not None:
            self.register_buffer('queue_ptr', torch.zeros((),
                                                          dtype=torch.long))
        self.last_num_valid = torch.zeros((), dtype=torch.long)
        # Global number of slots, (world, rank) the buffers are laid out
        # for, rank 0's host copy of a sharded bank, the label sort cache.
        self._num_slots = 0
        self._layout = (1, 0)
        self._mirror: Optional[Dict[str, torch.Tensor]] = None
        self._label_sort: Optional[Tuple] = None
        if queue_size is not None:
            self._allocate(queue_size)
        elif num_samples is not None:
            self.allocate(num_samples)

    @property
    def num_samples(self) -> int:
        """int: Number of slots L, over all shards (0 while unallocated)."""
        if self._layout[0] == 1:
            return self.feats.shape[0]
        return self._num_slots

    def _world(self) -> Tuple[int, int]:
        """(world, rank) the bank is sharded over: (1, 0) unless sharded."""
        return _dist_world() if self.sharded else (1, 0)

    def allocate(self, num_samples: int) -> None:
        """Create the L slots, or check that the bank already has them.

        A queue keeps its ``queue_size`` slots: the call (e.g.
        ``MemoryBankInitHook``'s, with the training set's length) leaves it
        unchanged.

        Args:
            num_samples (int): The training set's number of samples.

        Raises:
            ValueError: If the bank has a different number of slots.
        """
        if num_samples < 1:
            raise ValueError(f'num_samples must be >= 1, got {num_samples}')
        if self.queue_size is not None:
            return
        if self.num_samples == num_samples:
            if self._layout != self._world() and not self.filled.any():
                self._allocate(num_samples)  # built before the process group
            return
        if self.num_samples != 0:
            raise ValueError(
                f'memory bank has {self.num_samples} slots but the training '
                f'set has {num_samples} samples; the bank needs one slot per '
                'sample (leave num_samples unset to size it automatically)')
        self._allocate(num_samples)

    def _allocate(self, num_slots: int) -> None:
        """(Re)create empty buffers for ``num_slots`` global slots, this rank's
        share of them when sharded."""
        world, rank = self._world()
        if num_slots < world:
            raise ValueError(f'a sharded bank needs at least one slot per '
                             f'rank: {num_slots} slots, {world} ranks')
        num_local = len(range(rank, num_slots, world))
        device, dtype = self.feats.device, self.feats.dtype
        self.feats = torch.zeros(
            num_local, self.feat_dim, dtype=dtype, device=device)
        self.labels = torch.full((num_local, ),
                                 -1,
                                 dtype=torch.long,
                                 device=device)
        self.filled = torch.zeros(num_local, dtype=torch.bool, device=device)
        self._num_slots = num_slots
        self._layout = (world, rank)
        self._label_sort = None
        self._mirror = None
        if world > 1 and rank == 0:
            self._mirror = dict(
                feats=torch.zeros(num_slots, self.feat_dim, dtype=dtype),
                labels=torch.full((num_slots, ), -1, dtype=torch.long),
                filled=torch.zeros(num_slots, dtype=torch.bool))

    def _check_layout(self) -> int:
        """The world size the buffers are sharded over, checked against the
        running one."""
        if self._layout != self._world():
            raise RuntimeError(
                f'sharded memory bank is laid out for (world, rank) '
                f'{self._layout} but runs as {self._world()}: build or '
                'allocate it after init_process_group, or load a checkpoint')
        return self._layout[0]

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        """Save the full bank: a sharded bank's from rank 0's host copy."""
        super()._save_to_state_dict(destination, prefix, keep_vars)
        world, rank = self._layout
        if world == 1:
            return
        if self._mirror is None:
            raise RuntimeError(
                f'rank {rank} holds {self.feats.shape[0]} of the '
                f'{self.num_samples} slots of this sharded memory bank; '
                'save checkpoints from rank 0, which holds all of them (as '
                'mmengine does)')
        for name, value in self._mirror.items():
            destination[prefix + name] = value

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        """Allocate an unsized bank from the checkpoint, refuse a size mismatch
        or non-finite features; a sharded bank keeps its part of the full
        checkpoint tensors (of any world size)."""
        saved = state_dict.get(prefix + 'feats')
        if saved is not None:
            check_finite_write(saved, self, 'checkpoint feature rows')
        if saved is not None and self.num_samples == 0:
            self.allocate(saved.shape[0])
        elif saved is not None and saved.shape[0] != self.num_samples:
            raise ValueError(
                f'checkpoint memory bank {prefix}feats has {saved.shape[0]} '
                f'slots, this bank has {self.num_samples}')
        if saved is not None and self.sharded:
            if self._layout != self._world():
                self._allocate(self.num_samples)
            world, rank = self._layout
            if world > 1:
                state_dict = dict(state_dict)
                for name in ('feats', 'labels', 'filled'):
                    full = state_dict.get(prefix + name)
                    if full is None:
                        continue
                    state_dict[prefix + name] = full[rank::world]
                    if self._mirror is not None:
                        self._mirror[name].copy_(full)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def _count(self, value: float) -> int:
        """A candidate count: ``value`` itself, or with ``relative_counts``
        that fraction of the bank's slots (at least 1 when nonzero)."""
        if not self.relative_counts:
            return int(value)
        return max(1, round(value * self.num_samples)) if value > 0 else 0

    def _required(self, strategy: str, num_hard: float,
                  num_rand: float) -> int:
        """Candidates the largest sampled set of ``strategy`` asks for."""
        need = [self._count(num_hard)] if 'H' in strategy else []
        need += [self._count(num_rand)] if 'R' in strategy else []
        return max(need)

    def _set_plan(self, strategy: str, num_hard: float,
                  num_rand: float) -> List[Tuple[str, int]]:
        """The sets ``strategy`` samples, in order: ('H' or 'R', count)."""
        plan = [('H', self._count(num_hard))] if 'H' in strategy else []
        plan += [('R', self._count(num_rand))] if 'R' in strategy else []
        return [(kind, k) for kind, k in plan if k > 0]

    @staticmethod
    def _select(score: torch.Tensor, mask: Optional[torch.Tensor], k: int,
                largest: bool) -> _Set:
        """Top-k of ``score`` among ``mask``; returns (indices, is_valid).

        ``mask`` None: ``score`` already holds -inf (largest) or +inf at the
        non-candidates.
        """
        k = min(k, score.shape[1])
        fill = _NEG_INF if largest else float('inf')
        if mask is not None:
            score = torch.where(mask, score, score.new_tensor(fill))
        idx = _topk_indices(score, k, largest)
        if mask is not None:
            return idx, mask.gather(1, idx)
        return idx, score.gather(1, idx) != fill

    def _sample(self,
                sim: torch.Tensor,
                mask: Optional[torch.Tensor],
                strategy: str,
                num_hard: int,
                num_rand: int,
                hard_largest: bool,
                stream: int = 0,
                counts: Optional[torch.Tensor] = None) -> List[_Set]:
        """Index sets (each (B, k) indices, (B, k) validity) to contrast;
        ``stream`` keeps the positive and negative random draws apart.

        ``mask``
        None: ``sim`` holds -inf at the non-candidates (``counts`` (B, ) of
        candidates per row then saves counting them).
        """
        sets = []
        for kind, k in self._set_plan(strategy, num_hard, num_rand):
            if kind == 'H':
                sets.append(self._select(sim, mask, k, hard_largest))
            else:
                sets.append(
                    self._random_subset(sim if mask is None else mask, k,
                                        stream, counts))
        return sets

    def _random_subset(self,
                       mask: torch.Tensor,
                       k: int,
                       stream: int,
                       counts: Optional[torch.Tensor] = None) -> _Set:
        """Per row, ``k`` candidates of ``mask`` drawn uniformly without
        replacement (all of them when fewer); returns (indices, is_valid).

        ``mask`` is a (B, N) bool mask, or a (B, N) score holding -inf exactly
        at the non-candidates (no bool mask is then built unless needed);
        ``counts`` (B, ), if given, are the candidates per row.

        When candidates are plentiful, i.i.d. draws of column indices are kept
        in draw order, dropping repeats and non-candidates: the first ``k``
        survivors are a uniform ``k``-subset at O(k) cost per row. Rows too
        sparse for that fall back to the ``k`` largest of i.i.d. keys over all
        N columns.
        """
        B, N = mask.shape
        k = min(k, N)
        scored = mask.dtype != torch.bool
        generator = self._generator(mask.device, stream)
        if counts is None:
            counts = (mask > _NEG_INF if scored else mask).sum(1)
        density = float(counts.min()) / N
        # Enough draws for k survivors with a wide margin; else fall back.
        m = int((k + 4 * k**0.5 + 8) / density) + 1 if density > 0 else N
        if m <= N // 2:
            cand = torch.randint(
                N, (B, m), device=mask.device, generator=generator)
            order = torch.arange(m, device=mask.device).expand(B, m)
            sorted_key, _ = (cand * m + order).sort(dim=1)
            sorted_cand = sorted_key // m
            first = torch.ones_like(cand, dtype=torch.bool)
            first[:, 1:] = sorted_cand[:, 1:] != sorted_cand[:, :-1]
            first = torch.zeros_like(first).scatter_(1, sorted_key % m, first)
            picked = mask.gather(1, cand)
            valid = (picked > _NEG_INF if scored else picked) & first
            if bool((valid.sum(1) >= counts.clamp(max=k)).all()):
                # The first k survivors in draw order, moved to the front
                # (the rest of a row short of k survivors: invalid).
                rank = valid.cumsum(1) - 1
                target = torch.where(valid & (rank < k), rank, k)
                idx = cand.new_zeros((B, k + 1)).scatter_(1, target, cand)
                ok = torch.zeros_like(
                    idx, dtype=torch.bool).scatter_(1, target, valid)
                return idx[:, :k], ok[:, :k]
        keys = torch.rand((B, N), device=mask.device, generator=generator)
        return self._select(
            keys, mask > _NEG_INF if scored else mask, k, largest=True)

    def _sorted_labels(self) -> Tuple[torch.Tensor, torch.Tensor]:
        """``sort(self.labels)``: (sorted labels, order), cached while the
        labels tensor is not modified (writes leave unchanged labels alone, so
        a bank whose slots keep their samples' labels sorts once)."""
        labels, cache = self.labels, self._label_sort
        # Keyed on the storage too: a copy (deepcopy, .to) starts a new
        # version counter.
        key = (labels.device, labels.data_ptr(), labels._version,
               labels.shape[0])
        if cache is None or cache[0] != key:
            cache = (key, ) + tuple(torch.sort(labels, stable=True))
            self._label_sort = cache
        return cache[1], cache[2]

    def _class_slots(
        self, labels: torch.Tensor, indices: Optional[torch.Tensor]
    ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The bank slots holding each anchor's class, padded: (B, P) slot
        indices, (B, P) validity (filled, same label, not its own slot
        ``indices``, None for no own slot, -1 for none in this bank) and (B, P)
        membership (same label, before the padding).

        Positives are a small part of the bank, so they are selected among
        these P columns instead of all L.
        """
        sorted_labels, order = self._sorted_labels()
        start = torch.searchsorted(sorted_labels, labels)
        count = torch.searchsorted(sorted_labels, labels, right=True) - start
        width = max(int(count.max()), 1)
        offset = torch.arange(width, device=labels.device)
        slots = order[(start.unsqueeze(1) + offset).clamp(max=len(order) - 1)]
        member = offset < count.unsqueeze(1)
        valid = member & self.filled[slots]
        if indices is not None:
            valid &= slots != indices.unsqueeze(1)
        return slots, valid, member

    def _sample_positives(self,
                          sim: torch.Tensor,
                          labels: torch.Tensor,
                          indices: Optional[torch.Tensor],
                          class_slots: Optional[Tuple] = None
                          ) -> Tuple[List[_Set], torch.Tensor]:
        """Positive sets as bank slots, selected among the slots of each
        anchor's class only (a small part of the bank); also the (B, ) number
        of positive candidates per anchor."""
        if class_slots is None:
            class_slots = self._class_slots(labels, indices)
        slots, mask, _ = class_slots
        sets = self._sample(
            sim.gather(1, slots),
            mask,
            self.pos_sampling,
            self.num_hard_pos,
            self.num_rand_pos,
            hard_largest=False)
        return [(slots.gather(1, idx), ok) for idx, ok in sets], mask.sum(1)

    def _mask_non_negatives(self, sim: torch.Tensor, labels: torch.Tensor,
                            indices: Optional[torch.Tensor],
                            class_slots: Tuple) -> torch.Tensor:
        """Set ``sim`` (B, L) to -inf, in place, wherever a slot is not a
        negative of the anchor (same label, unfilled, its own slot); returns
        the (B, ) number of negatives.

        No (B, L) mask is built: the same-label slots are the (B, P) class
        slots.
        """
        slots, _, member = class_slots
        rows = torch.arange(sim.shape[0], device=sim.device)
        num_neg = self.filled.sum() - (member & self.filled[slots]).sum(1)
        sim[rows.unsqueeze(1).expand_as(slots)[member], slots[member]] = \
            _NEG_INF
        if not bool(self.filled.all()):
            sim.masked_fill_(~self.filled, _NEG_INF)
        if indices is not None:
            here = indices >= 0
            own = indices.clamp(min=0)
            num_neg = num_neg - (here & self.filled[own] &
                                 (self.labels[own] != labels)).long()
            sim[rows[here], indices[here]] = _NEG_INF
        return num_neg

    def _generator(self, device: torch.device, stream: int) -> torch.Generator:
        """A generator seeded by (seed, update count, rank, stream)."""
        rank = dist.get_rank() if dist.is_available() and \
            dist.is_initialized() else 0
        step = int(self.num_updates) * 1024 + rank * 4 + stream
        generator = torch.Generator(device=device)
        generator.manual_seed((int(self.seed) * 1000003 + step) % 2**63)
        return generator

    def _similarity(self, query: torch.Tensor) -> torch.Tensor:
        """(B, L) fp32 similarities of ``query`` (B, D) with the stored rows,
        upcast a block of rows at a time when stored in lower precision."""
        feats = self.feats
        if feats.dtype == query.dtype:
            return query @ feats.t()
        step = max(1, _UPCAST_ELEMENTS // max(self.feat_dim, 1))
        if feats.shape[0] <= step:
            return query @ feats.to(query.dtype).t()
        sim = query.new_empty((query.shape[0], feats.shape[0]))
        for start in range(0, feats.shape[0], step):
            block = feats[start:start + step].to(query.dtype)
            sim[:, start:start + step] = query @ block.t()
        return sim

    def forward(self,
                feats: torch.Tensor,
                labels: torch.Tensor,
                indices: Optional[torch.Tensor] = None) -> torch.Tensor:
        """InfoNCE of ``feats`` against the bank, then write them into it.

        Args:
            feats (torch.Tensor): (B, D) anchor features (not normalised).
            labels (torch.Tensor): (B, ) class labels.
            indices (torch.Tensor, optional): (B, ) dataset indices of the
                samples; required unless the bank is a queue (which ignores
                them). Defaults to None.

        Returns:
            torch.Tensor: Scalar loss (0, still in the graph, when no anchor
            has both a positive and a negative).
        """
        if self.num_samples == 0:
            raise RuntimeError(
                'memory bank is not allocated: set num_samples, add '
                "dict(type='MemoryBankInitHook') to custom_hooks, or call "
                'allocate(len(train_dataset))')
        if feats.dim() != 2 or feats.shape[1] != self.feat_dim:
            raise ValueError(f'feats must be (B, {self.feat_dim}), got '
                             f'{tuple(feats.shape)}')
        labels = labels.to(self.labels.device).long().view(-1)
        if self.queue_size is not None:
            indices = None
        elif indices is None:
            raise ValueError('indices are required: the bank has one slot '
                             'per training sample')
        else:
            indices = indices.to(self.labels.device).long().view(-1)
            if indices.numel() and (int(indices.min()) < 0
                                    or int(indices.max()) >= self.num_samples):
                raise ValueError(
                    f'sample index range [{int(indices.min())}, '
                    f'{int(indices.max())}] does not fit a bank of '
                    f'{self.num_samples} slots: the bank must have one slot '
                    'per training sample')
        world = self._check_layout()
        query = F.normalize(feats.float(), dim=1)
        patch: Dict = {}
        if world > 1:
            return self._forward_sharded(query, labels, indices, patch)
        loss = self._info_nce(query, labels, indices, patch)
        self._write(query.detach(), labels, indices, patch)
        return loss

    def _select_sets(
        self, query: torch.Tensor, labels: torch.Tensor,
        own: Optional[torch.Tensor]
    ) -> Tuple[List[_Set], List[_Set], List[torch.Tensor], torch.Tensor,
               torch.Tensor]:
        """Positive and negative sets of the queries (B, D) on this rank's
        rows, without autograd: (pos_sets, neg_sets, their (B, k) similarity
        values in that order, (B, ) positive and negative candidate counts).

        Invalid negatives' values are -inf.
        """
        sim = self._similarity(query)  # (B, L), no autograd graph
        class_slots = self._class_slots(labels, own)
        pos_sets, num_pos = self._sample_positives(
            sim, labels, own, class_slots=class_slots)
        values = [sim.gather(1, idx) for idx, _ in pos_sets]
        # Negatives: every filled slot of another class.
        num_neg = self._mask_non_negatives(sim, labels, own, class_slots)
        neg_sets = self._sample(
            sim,
            None,
            self.neg_sampling,
            self.num_hard_neg,
            self.num_rand_neg,
            hard_largest=True,
            stream=1,
            counts=num_neg)
        values += [sim.gather(1, idx) for idx, _ in neg_sets]
        return pos_sets, neg_sets, values, num_pos, num_neg

    def _anchor_ok(self, pos_ok: torch.Tensor, neg_ok: torch.Tensor,
                   num_pos: torch.Tensor,
                   num_neg: torch.Tensor) -> torch.Tensor:
        """(B, ) anchors that contribute, from their first positive and
        negative sets' validity and their candidate counts."""
        # A set holds a valid candidate iff its row has any.
        anchor_ok = pos_ok.any(1) & neg_ok.any(1)
        if self.anchor_rule == 'complete':
            anchor_ok &= num_pos >= self._required(self.pos_sampling,
                                                   self.num_hard_pos,
                                                   self.num_rand_pos)
            anchor_ok &= num_neg >= self._required(self.neg_sampling,
                                                   self.num_hard_neg,
                                                   self.num_rand_neg)
        return anchor_ok

    def _info_nce(self, query: torch.Tensor, labels: torch.Tensor,
                  indices: Optional[torch.Tensor],
                  patch: Dict) -> torch.Tensor:
        """InfoNCE of queries (B, D) against the sampled positives and
        negatives of the bank; a scalar."""
        with torch.no_grad():
            pos_sets, neg_sets, values, num_pos, num_neg = self._select_sets(
                query, labels, indices)
            anchor_ok = self._anchor_ok(pos_sets[0][1], neg_sets[0][1],
                                        num_pos, num_neg)
            self.last_num_valid = anchor_ok.sum()
            sets = pos_sets + neg_sets
            sizes = [idx.shape[1] for idx, _ in sets]
            all_idx = torch.cat([idx for idx, _ in sets], 1)
            values = torch.cat(values, 1)

        # Only the selected similarities carry gradients: (B, K).
        logits = _SelectedSimilarity.apply(query, self.feats, all_idx, values,
                                           patch)
        return self._contrast(logits, sizes, [ok for _, ok in pos_sets],
                              [ok for _, ok in neg_sets], anchor_ok)

    def _contrast(self, logits: torch.Tensor, sizes: Sequence[int],
                  pos_oks: List[torch.Tensor], neg_oks: List[torch.Tensor],
                  anchor_ok: torch.Tensor) -> torch.Tensor:
        """The loss from the (B, K) selected similarities, split into the
        positive then negative sets of ``sizes`` columns and their validity."""
        parts = (logits / self.temperature).split(list(sizes), dim=1)
        num_pos_sets = len(pos_oks)
        pos_logit = torch.cat(parts[:num_pos_sets], 1)
        pos_ok = torch.cat(pos_oks, 1)
        row_ok = pos_ok & anchor_ok.unsqueeze(1)
        total = logits.new_zeros(())
        count = logits.new_zeros(())
        for neg_logit, neg_ok in zip(parts[num_pos_sets:], neg_oks):
            neg_logit = neg_logit.masked_fill(~neg_ok, _MASKED)
            # One log-sum-exp of the negatives per anchor, shared by all of
            # its positives: -log(e^p / (e^p + sum e^n)) = softplus(lse - p).
            lse = torch.logsumexp(neg_logit, dim=1, keepdim=True)
            loss_rows = F.softplus(lse - pos_logit)
            total = total + (loss_rows * row_ok).sum()
            count = count + row_ok.sum()
        return total / count.clamp(min=1)

    def _shard_keys(self, ok: torch.Tensor, counts: torch.Tensor,
                    stream: int) -> torch.Tensor:
        """Merge keys (N, k) for a uniform random subset ``ok`` of each row's
        ``counts`` (N, ) candidates on this shard; -inf where not ``ok``.

        They are the k largest of ``counts`` i.i.d. U(0, 1) keys (as logs:
        ``cumsum(log u_j / (c - j))``), dealt to the valid entries in random
        order: as if every candidate had drawn an i.i.d. key and the shard
        kept its k largest. The k largest keys over all shards are then a
        uniform k-subset of all candidates.
        """
        num_rows, k = ok.shape
        generator = self._generator(ok.device, stream)
        u = 1 - torch.rand(
            (num_rows, k), device=ok.device, generator=generator)
        rank = torch.arange(k, device=ok.device)
        left = (counts.unsqueeze(1) - rank).clamp(min=1)
        keys = torch.cumsum(u.log() / left, 1)
        keys = keys.masked_fill(rank >= ok.sum(1, keepdim=True), _NEG_INF)
        deal = torch.rand(
            (num_rows, k), device=ok.device, generator=generator) + 2 * (~ok)
        return torch.empty_like(keys).scatter_(1, deal.argsort(1), keys)

    @staticmethod
    def _merge_shards(keys: torch.Tensor, values: torch.Tensor,
                      slots: torch.Tensor, k: int
                      ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The ``k`` largest ``keys`` per row over all shards.

        Args:
            keys, values, slots (torch.Tensor): (W, N, k') each shard's
                candidates: merge key (-inf: invalid), similarity, global
                slot.
            k (int): How many to keep.

        Returns:
            tuple: (N, k) slots, values and validity.
        """
        world, num_rows, width = keys.shape

        def flat(x):
            return x.permute(1, 0, 2).reshape(num_rows, world * width)

        keys = flat(keys)
        top = keys.topk(min(k, keys.shape[1]), 1, sorted=False)[1]
        return (flat(slots).gather(1, top), flat(values).gather(1, top),
                keys.gather(1, top) > _NEG_INF)

    def _forward_sharded(self, query: torch.Tensor, labels: torch.Tensor,
                         indices: Optional[torch.Tensor],
                         patch: Dict) -> torch.Tensor:
        """Loss and write of a bank sharded over the ranks: the queries of all
        ranks against this shard, per-shard candidates merged over ranks."""
        world, rank = self._layout
        sizes = _gather_sizes(query.shape[0], query.device)
        offset = sum(sizes[:rank])
        mine = slice(offset, offset + query.shape[0])
        gathered = _all_gather_cat(query.detach().contiguous(), sizes)
        check_finite_write(gathered, self, 'feature rows')
        all_labels = _all_gather_cat(labels.contiguous(), sizes)
        all_indices = own = None
        if indices is not None:
            all_indices = _all_gather_cat(indices.contiguous(), sizes)
            own = torch.where(all_indices % world == rank,
                              all_indices // world, -1)
        with torch.no_grad():
            pos_sets, neg_sets, values, num_pos, num_neg = self._select_sets(
                gathered, all_labels, own)
            plan = [(kind, k, True, 0) for kind, k in self._set_plan(
                self.pos_sampling, self.num_hard_pos, self.num_rand_pos)]
            plan += [(kind, k, False, 1) for kind, k in self._set_plan(
                self.neg_sampling, self.num_hard_neg, self.num_rand_neg)]
            keys, vals, slots = [], [], []
            local = zip(plan, pos_sets + neg_sets, values)
            for (kind, k, pos, stream), (idx, ok), value in local:
                if kind == 'H':  # least similar positives, most similar negs
                    key = torch.where(ok, -value if pos else value,
                                      value.new_tensor(_NEG_INF))
                else:
                    key = self._shard_keys(ok, num_pos if pos else num_neg,
                                           stream + 2)
                pad = (0, k - idx.shape[1])  # every rank sends k columns
                keys.append(F.pad(key, pad, value=_NEG_INF))
                vals.append(F.pad(value, pad))
                slots.append(F.pad(idx * world + rank, pad))
            # one exchange of all sets' candidates and the counts
            packed = torch.stack([torch.cat(keys, 1), torch.cat(vals, 1)])
            packed_all = [torch.empty_like(packed) for _ in range(world)]
            dist.all_gather(packed_all, packed)
            slots = torch.cat(slots, 1)
            slots_all = [torch.empty_like(slots) for _ in range(world)]
            dist.all_gather(slots_all, slots)
            counts = torch.stack([num_pos, num_neg])
            dist.all_reduce(counts)
            packed_all, slots_all = torch.stack(packed_all), torch.stack(
                slots_all)
            merged, start = [], 0
            for kind, k, _, _ in plan:
                cols = slice(start, start + k)
                merged.append(
                    self._merge_shards(packed_all[:, 0, :, cols],
                                       packed_all[:, 1, :, cols],
                                       slots_all[:, :, cols], k))
                start += k
            num_pos_sets = len(pos_sets)
            anchor_ok = self._anchor_ok(merged[0][2][mine],
                                        merged[num_pos_sets][2][mine],
                                        counts[0][mine], counts[1][mine])
            self.last_num_valid = anchor_ok.sum()
            sizes_k = [m[0].shape[1] for m in merged]
            all_slots = torch.cat([m[0] for m in merged], 1)
            own_values = torch.cat([m[1][mine] for m in merged], 1)
            oks = [m[2][mine] for m in merged]

        layout = dict(world=world, rank=rank, sizes=sizes, offset=offset)
        logits = _ShardedSimilarity.apply(query, own_values, all_slots,
                                          self.feats, patch, layout)
        loss = self._contrast(logits, sizes_k, oks[:num_pos_sets],
                              oks[num_pos_sets:], anchor_ok)
        self._write_gathered(gathered, all_labels, all_indices, patch)
        return loss

    @torch.no_grad()
    def _write(self, feats: torch.Tensor, labels: torch.Tensor,
               indices: Optional[torch.Tensor], patch: Dict) -> None:
        """Write the features (B, D) and labels (B,) to their slots, from every
        rank, recording the overwritten rows in ``patch``.

        Raises:
            NonFiniteStateError: If a gathered feature row holds NaN or inf;
                checked before anything is written (the bank is then left
                unchanged), on the gathered rows so every rank agrees.
        """
        feats = _all_gather_cat(feats.contiguous())
        check_finite_write(feats, self, 'feature rows')
        labels = _all_gather_cat(labels.contiguous())
        if indices is not None:
            indices = _all_gather_cat(indices.contiguous())
        self._write_gathered(feats, labels, indices, patch)

    @torch.no_grad()
    def _write_gathered(self, feats: torch.Tensor, labels: torch.Tensor,
                        indices: Optional[torch.Tensor], patch: Dict) -> None:
        """Write all ranks' (N, D) features and (N, ) labels: at ``indices``,
        or for a queue at the next N slots from ``queue_ptr``."""
        if self.queue_size is None:
            # A slot may appear twice (e.g. a distributed sampler's
            # padding); keep its last occurrence so every rank writes the
            # same value.
            slots, inverse = indices.unique(return_inverse=True)
            rows = torch.zeros_like(slots).scatter_reduce(
                0,
                inverse,
                torch.arange(len(indices), device=indices.device),
                reduce='amax',
                include_self=False)
        else:
            # Arrival order; more rows than slots: only the last K stay.
            size, ptr, num = self.queue_size, int(self.queue_ptr), len(feats)
            skip = max(0, num - size)
            rows = torch.arange(skip, num, device=feats.device)
            slots = (ptr + rows) % size
            self.queue_ptr.fill_((ptr + num) % size)
        self._store(slots, feats[rows], labels[rows], patch)
        self.num_updates += 1

    def _store(self, slots: torch.Tensor, feats: torch.Tensor,
               labels: torch.Tensor, patch: Dict) -> None:
        """Write rows at distinct global ``slots``: the ones this rank holds,
        and all of them into rank 0's host copy of a sharded bank."""
        if self._mirror is not None:
            host = slots.cpu()
            self._mirror['feats'][host] = feats.to('cpu', self.feats.dtype)
            self._mirror['labels'][host] = labels.cpu()
            self._mirror['filled'][host] = True
        world, rank = self._layout
        if world > 1:
            held = slots % world == rank
            slots, feats, labels = slots[held] // world, feats[held], labels[
                held]
        patch.update(written=slots, old=self.feats[slots].clone())
        self.feats[slots] = feats.to(self.feats.dtype)
        patch['version'] = self.feats._version
        # Labels only where they change: the cached sort stays valid.
        changed = self.labels[slots] != labels
        if bool(changed.any()):
            self.labels[slots[changed]] = labels[changed]
        self.filled[slots] = True

    def extra_repr(self) -> str:
        """Size and sampling settings, for ``print(model)``."""
        text = (f'num_samples={self.num_samples}, feat_dim={self.feat_dim}, '
                f'pos={self.pos_sampling}(hard={self.num_hard_pos}, '
                f'rand={self.num_rand_pos}), neg={self.neg_sampling}('
                f'hard={self.num_hard_neg}, rand={self.num_rand_neg}), '
                f'temperature={self.temperature}, '
                f'anchor_rule={self.anchor_rule}, '
                f'relative_counts={self.relative_counts}')
        if self.storage_dtype != 'float32':
            text += f', storage_dtype={self.storage_dtype}'
        if self.queue_size is not None:
            text += f', queue_size={self.queue_size}'
        if self.sharded:
            text += f', sharded=True (world, rank)={self._layout}'
        return text
