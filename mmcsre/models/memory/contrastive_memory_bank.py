"""A label-aware memory bank with hybrid hard/random sampling and InfoNCE."""
from typing import Dict, List, Optional, Tuple

import torch
import torch.distributed as dist
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmengine.model import BaseModule

from mmcsre.utils import check_finite_write, preserve_global_rng

SAMPLINGS = ('H', 'R', 'R+H')
ANCHOR_RULES = ('available', 'complete')
# Masked-out similarities: finite (an all-masked row must not give NaN
# gradients through logsumexp) but far below any cosine / temperature.
_MASKED = -1e4


def _all_gather_cat(tensor: torch.Tensor) -> torch.Tensor:
    """Concatenate ``tensor`` (B, ...) from every rank, in rank order; batch
    sizes may differ between ranks."""
    if not (dist.is_available() and dist.is_initialized()) or \
            dist.get_world_size() == 1:
        return tensor
    world = dist.get_world_size()
    size = torch.tensor([tensor.shape[0]], device=tensor.device)
    sizes = [torch.zeros_like(size) for _ in range(world)]
    dist.all_gather(sizes, size)
    sizes = [int(s.item()) for s in sizes]
    padded = tensor.new_zeros((max(sizes), ) + tensor.shape[1:])
    padded[:tensor.shape[0]] = tensor
    chunks = [torch.zeros_like(padded) for _ in range(world)]
    dist.all_gather(chunks, padded)
    return torch.cat([c[:n] for c, n in zip(chunks, sizes)])


class _SelectedSimilarity(torch.autograd.Function):
    """Similarities ``query[b] . bank[idx[b, k]]`` taken from an already
    computed (no-grad) similarity matrix; the gradient w.r.t. the query is an
    ``embedding_bag`` weighted sum of the selected bank rows, so neither the
    (B, L) matrix nor a (B, K, D) gather is kept for autograd.

    The bank is written in place right after the forward pass. ``patch``
    receives, before that write, the written slots and their old rows;
    backward adds ``g * (old - new)`` for selected slots among them, so the
    gradient is exactly that of the bank the loss was computed against.
    """

    @staticmethod
    def forward(ctx, query: torch.Tensor, bank: torch.Tensor,
                idx: torch.Tensor, sim: torch.Tensor,
                patch: Dict) -> torch.Tensor:
        """Gather (B, K) similarities at ``idx`` from ``sim`` (B, L)."""
        ctx.bank, ctx.patch = bank, patch  # bank: no version check, see doc
        ctx.save_for_backward(idx)
        return sim.gather(1, idx)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        """Gradient with respect to the query (B, D) only."""
        idx, = ctx.saved_tensors
        bank, patch = ctx.bank, ctx.patch
        if bank._version != patch.get('version', bank._version):
            raise RuntimeError('the memory bank was written again before '
                               'backward of the loss computed against it')
        grad = grad.to(bank.dtype)
        grad_query = F.embedding_bag(
            idx, bank, per_sample_weights=grad, mode='sum')
        if 'written' in patch:
            written, old = patch['written'], patch['old']
            lookup = torch.full((bank.shape[0], ),
                                -1,
                                dtype=torch.long,
                                device=bank.device)
            lookup[written] = torch.arange(len(written), device=bank.device)
            pos = lookup[idx]
            delta = old - bank.index_select(0, written)
            grad_query = grad_query + F.embedding_bag(
                pos.clamp(min=0),
                delta,
                per_sample_weights=grad * (pos >= 0),
                mode='sum')
        return grad_query, None, None, None, None


@MODELS.register_module()
class ContrastiveMemoryBank(BaseModule):
    """One memory bank of L2-normalised features, one slot per training sample,
    contrasted against with InfoNCE (CSRE, csre.txt Sec. 3.3).

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
    bank). Everything is vectorised over the batch: one (B, L) similarity
    matmul without autograd, ``topk`` selections, random draws on the
    device; gradients flow only through the selected similarities.

    Args:
        num_samples (int, optional): Number of slots L, one per training
            sample. None leaves the bank unallocated until
            :meth:`allocate` (called by ``MemoryBankInitHook`` with the
            training set's length) or until a checkpoint is loaded.
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
        self.register_buffer('feats', torch.zeros(0, feat_dim))
        self.register_buffer('labels', torch.zeros(0, dtype=torch.long))
        self.register_buffer('filled', torch.zeros(0, dtype=torch.bool))
        if seed is None:
            with preserve_global_rng():
                seed = int(torch.randint(2**31 - 1, ()))
        self.register_buffer('seed', torch.tensor(seed, dtype=torch.long))
        self.register_buffer('num_updates', torch.zeros((), dtype=torch.long))
        self.last_num_valid = torch.zeros((), dtype=torch.long)
        if num_samples is not None:
            self.allocate(num_samples)

    @property
    def num_samples(self) -> int:
        """int: Number of slots L (0 while unallocated)."""
        return self.feats.shape[0]

    def allocate(self, num_samples: int) -> None:
        """Create the L slots, or check that the bank already has them.

        Args:
            num_samples (int): The training set's number of samples.

        Raises:
            ValueError: If the bank has a different number of slots.
        """
        if num_samples < 1:
            raise ValueError(f'num_samples must be >= 1, got {num_samples}')
        if self.num_samples == num_samples:
            return
        if self.num_samples != 0:
            raise ValueError(
                f'memory bank has {self.num_samples} slots but the training '
                f'set has {num_samples} samples; the bank needs one slot per '
                'sample (leave num_samples unset to size it automatically)')
        device = self.feats.device
        self.feats = torch.zeros(num_samples, self.feat_dim, device=device)
        self.labels = torch.full((num_samples, ),
                                 -1,
                                 dtype=torch.long,
                                 device=device)
        self.filled = torch.zeros(num_samples, dtype=torch.bool, device=device)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        """Allocate an unsized bank from the checkpoint, refuse a size
        mismatch."""
        saved = state_dict.get(prefix + 'feats')
        if saved is not None:
            check_finite_write(saved, self, 'checkpoint feature rows')
        if saved is not None and self.num_samples == 0:
            self.allocate(saved.shape[0])
        elif saved is not None and saved.shape[0] != self.num_samples:
            raise ValueError(
                f'checkpoint memory bank {prefix}feats has {saved.shape[0]} '
                f'slots, this bank has {self.num_samples}')
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

    @staticmethod
    def _select(score: torch.Tensor, mask: torch.Tensor, k: int,
                largest: bool) -> Tuple[torch.Tensor, torch.Tensor]:
        """Top-k of ``score`` among ``mask``; returns (indices, is_valid)."""
        k = min(k, score.shape[1])
        fill = score.new_tensor(float('-inf') if largest else float('inf'))
        idx = torch.where(mask, score, fill).topk(
            k, 1, largest=largest, sorted=False)[1]
        return idx, mask.gather(1, idx)

    def _sample(self,
                sim: torch.Tensor,
                mask: torch.Tensor,
                strategy: str,
                num_hard: int,
                num_rand: int,
                hard_largest: bool,
                stream: int = 0) -> List[Tuple[torch.Tensor, torch.Tensor]]:
        """Index sets (each (B, k) indices, (B, k) validity) to contrast;
        ``stream`` keeps the positive and negative random draws apart."""
        sets = []
        num_hard, num_rand = self._count(num_hard), self._count(num_rand)
        if 'H' in strategy and num_hard > 0:
            sets.append(self._select(sim, mask, num_hard, hard_largest))
        if 'R' in strategy and num_rand > 0:
            sets.append(self._random_subset(mask, num_rand, stream))
        return sets

    def _random_subset(self, mask: torch.Tensor, k: int,
                       stream: int) -> Tuple[torch.Tensor, torch.Tensor]:
        """Per row, ``k`` candidates of ``mask`` drawn uniformly without
        replacement (all of them when fewer); returns (indices, is_valid).

        When candidates are plentiful, i.i.d. draws of column indices are kept
        in draw order, dropping repeats and non-candidates: the first ``k``
        survivors are a uniform ``k``-subset at O(k) cost per row. Rows too
        sparse for that fall back to the ``k`` largest of i.i.d. keys over all
        N columns.
        """
        B, N = mask.shape
        k = min(k, N)
        generator = self._generator(mask.device, stream)
        counts = mask.sum(1)
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
            valid = mask.gather(1, cand) & first
            if bool((valid.sum(1) >= counts.clamp(max=k)).all()):
                # The first k survivors in draw order.
                score = torch.where(valid, m - order, torch.zeros_like(order))
                top = score.topk(k, dim=1).indices
                return cand.gather(1, top), valid.gather(1, top)
        keys = torch.rand((B, N), device=mask.device, generator=generator)
        return self._select(keys, mask, k, largest=True)

    def _class_slots(self, labels: torch.Tensor, indices: torch.Tensor
                     ) -> Tuple[torch.Tensor, torch.Tensor]:
        """The bank slots holding each anchor's class, padded: (B, P) slot
        indices and (B, P) validity (filled, same label, not its own slot).

        Positives are a small part of the bank, so they are selected among
        these P columns instead of all L.
        """
        sorted_labels, order = torch.sort(self.labels, stable=True)
        start = torch.searchsorted(sorted_labels, labels)
        count = torch.searchsorted(sorted_labels, labels, right=True) - start
        width = max(int(count.max()), 1)
        offset = torch.arange(width, device=labels.device)
        slots = order[(start.unsqueeze(1) + offset).clamp(max=len(order) - 1)]
        valid = (offset < count.unsqueeze(1)) & self.filled[slots] & (
            slots != indices.unsqueeze(1))
        return slots, valid

    def _sample_positives(
        self, sim: torch.Tensor, labels: torch.Tensor, indices: torch.Tensor
    ) -> Tuple[List[Tuple[torch.Tensor, torch.Tensor]], torch.Tensor]:
        """Positive sets as bank slots, selected among the slots of each
        anchor's class only (a small part of the bank); also the (B, ) number
        of positive candidates per anchor."""
        slots, mask = self._class_slots(labels, indices)
        sets = self._sample(
            sim.gather(1, slots),
            mask,
            self.pos_sampling,
            self.num_hard_pos,
            self.num_rand_pos,
            hard_largest=False)
        return [(slots.gather(1, idx), ok) for idx, ok in sets], mask.sum(1)

    def _generator(self, device: torch.device, stream: int) -> torch.Generator:
        """A generator seeded by (seed, update count, rank, stream)."""
        rank = dist.get_rank() if dist.is_available() and \
            dist.is_initialized() else 0
        step = int(self.num_updates) * 1024 + rank * 4 + stream
        generator = torch.Generator(device=device)
        generator.manual_seed((int(self.seed) * 1000003 + step) % 2**63)
        return generator

    def forward(self, feats: torch.Tensor, labels: torch.Tensor,
                indices: torch.Tensor) -> torch.Tensor:
        """InfoNCE of ``feats`` against the bank, then write them into it.

        Args:
            feats (torch.Tensor): (B, D) anchor features (not normalised).
            labels (torch.Tensor): (B, ) class labels.
            indices (torch.Tensor): (B, ) dataset indices of the samples.

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
        indices = indices.to(self.labels.device).long().view(-1)
        if indices.numel() and (int(indices.min()) < 0
                                or int(indices.max()) >= self.num_samples):
            raise ValueError(
                f'sample index range [{int(indices.min())}, '
                f'{int(indices.max())}] does not fit a bank of '
                f'{self.num_samples} slots: the bank must have one slot per '
                'training sample')
        query = F.normalize(feats.float(), dim=1)
        patch: Dict = {}
        loss = self._info_nce(query, labels, indices, patch)
        self._write(query.detach(), labels, indices, patch)
        return loss

    def _info_nce(self, query: torch.Tensor, labels: torch.Tensor,
                  indices: torch.Tensor, patch: Dict) -> torch.Tensor:
        """InfoNCE of queries (B, D) against the sampled positives and
        negatives of the bank; a scalar."""
        B = query.shape[0]
        rows = torch.arange(B, device=query.device)
        with torch.no_grad():
            sim = query @ self.feats.t()  # (B, L), no autograd graph
            pos_sets, num_pos = self._sample_positives(sim, labels, indices)
            # Negatives: every filled slot of another class.
            neg = labels.unsqueeze(1) != self.labels.unsqueeze(0)
            if not bool(self.filled.all()):
                neg &= self.filled
            neg[rows, indices] = False  # never the anchor's own slot
            neg_sets = self._sample(
                sim,
                neg,
                self.neg_sampling,
                self.num_hard_neg,
                self.num_rand_neg,
                hard_largest=True,
                stream=1)
            # A set holds a valid candidate iff its row has any.
            anchor_ok = pos_sets[0][1].any(1) & neg_sets[0][1].any(1)
            if self.anchor_rule == 'complete':
                anchor_ok &= num_pos >= self._required(self.pos_sampling,
                                                       self.num_hard_pos,
                                                       self.num_rand_pos)
                anchor_ok &= neg.sum(1) >= self._required(
                    self.neg_sampling, self.num_hard_neg, self.num_rand_neg)
            self.last_num_valid = anchor_ok.sum()
            sets = pos_sets + neg_sets
            sizes = [idx.shape[1] for idx, _ in sets]
            all_idx = torch.cat([idx for idx, _ in sets], 1)

        # Only the selected similarities carry gradients: (B, K).
        logits = _SelectedSimilarity.apply(query, self.feats, all_idx, sim,
                                           patch)
        parts = (logits / self.temperature).split(sizes, dim=1)
        num_pos_sets = len(pos_sets)
        pos_logit = torch.cat(parts[:num_pos_sets], 1)
        pos_ok = torch.cat([ok for _, ok in pos_sets], 1)
        row_ok = pos_ok & anchor_ok.unsqueeze(1)
        total = query.new_zeros(())
        count = query.new_zeros(())
        for neg_logit, (_, neg_ok) in zip(parts[num_pos_sets:], neg_sets):
            neg_logit = neg_logit.masked_fill(~neg_ok, _MASKED)
            # One log-sum-exp of the negatives per anchor, shared by all of
            # its positives: -log(e^p / (e^p + sum e^n)) = softplus(lse - p).
            lse = torch.logsumexp(neg_logit, dim=1, keepdim=True)
            loss_rows = F.softplus(lse - pos_logit)
            total = total + (loss_rows * row_ok).sum()
            count = count + row_ok.sum()
        return total / count.clamp(min=1)

    @torch.no_grad()
    def _write(self, feats: torch.Tensor, labels: torch.Tensor,
               indices: torch.Tensor, patch: Dict) -> None:
        """Write the features (B, D) and labels (B,) to their slots, from every
        rank, recording the overwritten rows in ``patch``."""
        feats = _all_gather_cat(feats.contiguous())
        labels = _all_gather_cat(labels.contiguous())
        indices = _all_gather_cat(indices.contiguous())
        # every rank sees the same gathered rows, so all refuse together,
        # before any buffer changes
        check_finite_write(feats, self, 'feature rows')
        # A slot may appear twice (e.g. a distributed sampler's padding);
        # keep its last occurrence so every rank writes the same value.
        written, inverse = indices.unique(return_inverse=True)
        last = torch.zeros_like(written).scatter_reduce(
            0,
            inverse,
            torch.arange(len(indices), device=indices.device),
            reduce='amax',
            include_self=False)
        patch.update(written=written, old=self.feats[written].clone())
        self.feats[written] = feats[last].to(self.feats.dtype)
        patch['version'] = self.feats._version
        self.labels[written] = labels[last]
        self.filled[written] = True
        self.num_updates += 1

    def extra_repr(self) -> str:
        """Size and sampling settings, for ``print(model)``."""
        return (f'num_samples={self.num_samples}, feat_dim={self.feat_dim}, '
                f'pos={self.pos_sampling}(hard={self.num_hard_pos}, '
                f'rand={self.num_rand_pos}), neg={self.neg_sampling}('
                f'hard={self.num_hard_neg}, rand={self.num_rand_neg}), '
                f'temperature={self.temperature}, '
                f'anchor_rule={self.anchor_rule}, '
                f'relative_counts={self.relative_counts}')
