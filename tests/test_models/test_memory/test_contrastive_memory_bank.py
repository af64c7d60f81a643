"""Tests of :class:`ContrastiveMemoryBank` against an independent, loop-based
reference of the CSRE InfoNCE with hybrid hard/random sampling (csre.txt
Section 3.3, Eqs 6-9 with the exponentials restored)."""
import copy
import inspect
import itertools
import os.path as osp
import socket

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F

from mmcsre.models.memory import ContrastiveMemoryBank
from mmcsre.utils import NonFiniteStateError

SAMPLINGS = ('H', 'R', 'R+H')


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------
def make_bank(num_samples=40,
              feat_dim=8,
              num_classes=3,
              fill=0.8,
              seed=0,
              **cfg):
    """A bank whose slots hold random unit features and labels; about ``fill``
    of them filled, the others as a fresh bank leaves them."""
    bank = ContrastiveMemoryBank(num_samples, feat_dim, **cfg)
    gen = torch.Generator().manual_seed(seed)
    filled = torch.rand(num_samples, generator=gen) < fill
    feats = F.normalize(
        torch.randn(num_samples, feat_dim, generator=gen), dim=1)
    labels = torch.randint(0, num_classes, (num_samples, ), generator=gen)
    bank.feats.copy_(torch.where(filled[:, None], feats, 0.))
    bank.labels.copy_(torch.where(filled, labels, -1))
    bank.filled.copy_(filled)
    return bank


def snapshot(bank):
    return (bank.feats.clone(), bank.labels.clone(), bank.filled.clone())


def make_batch(bank, batch_size=6, num_classes=3, seed=1):
    """Anchors with random features/labels; their indices mix filled and
    unfilled slots (distinct)."""
    gen = torch.Generator().manual_seed(seed)
    feats = torch.randn(batch_size, bank.feat_dim, generator=gen)
    labels = torch.randint(0, num_classes, (batch_size, ), generator=gen)
    filled = torch.nonzero(bank.filled).view(-1).tolist()
    empty = torch.nonzero(~bank.filled).view(-1).tolist()
    half = batch_size // 2
    indices = filled[:batch_size - half] + empty[:half]
    indices += filled[batch_size - half:batch_size - len(indices) +
                      batch_size - half]
    assert len(indices) == batch_size and len(set(indices)) == batch_size
    return feats.requires_grad_(), labels, torch.tensor(indices)


def candidates(state, label, own):
    """Brute force: (positives, negatives) slot lists of one anchor."""
    feats, labels, filled = state
    pos, neg = [], []
    for j in range(feats.shape[0]):
        if not bool(filled[j]) or j == own:
            continue
        (pos if int(labels[j]) == int(label) else neg).append(j)
    return pos, neg


def reference_loss(state, feats, labels, indices, cfg, rand_sets=None):
    """Naive CSRE InfoNCE, one anchor at a time with Python loops.

    Args:
        state: (feats, labels, filled) of the bank before the batch.
        cfg (dict): The bank's sampling config (all keys given).
        rand_sets (dict, optional): {'pos'|'neg': {anchor: [slots]}}, the
            random sets to use; by default every random set must ask for at
            least as many samples as there are candidates (then it is all
            of them).

    Returns:
        (loss, number of contributing anchors)
    """
    bank_feats = state[0]
    tau = cfg['temperature']
    query = feats / feats.norm(dim=1, keepdim=True)
    rows, num_valid = [], 0
    for b in range(feats.shape[0]):
        pos, neg = candidates(state, labels[b], int(indices[b]))
        if not pos or not neg:
            continue
        num_valid += 1
        sim = {j: float(query[b].detach() @ bank_feats[j]) for j in pos + neg}

        def pick(kind, strategy, cands, num_hard, num_rand, hardest_first):
            sets = []
            if 'H' in strategy and num_hard > 0:
                order = sorted(
                    cands, key=lambda j: sim[j], reverse=hardest_first)
                sets.append(order[:num_hard])
            if 'R' in strategy and num_rand > 0:
                if rand_sets is None:
                    assert num_rand >= len(cands), 'test setup'
                    sets.append(list(cands))
                else:
                    sets.append(list(rand_sets[kind][b]))
            return sets

        pos_sets = pick('pos', cfg['pos_sampling'], pos, cfg['num_hard_pos'],
                        cfg['num_rand_pos'], False)
        neg_sets = pick('neg', cfg['neg_sampling'], neg, cfg['num_hard_neg'],
                        cfg['num_rand_neg'], True)
        for p in [p for s in pos_sets for p in s]:
            for negs in neg_sets:
                s_pos = torch.exp(query[b] @ bank_feats[p] / tau)
                s_neg = torch.stack(
                    [torch.exp(query[b] @ bank_feats[n] / tau) for n in negs])
                rows.append(-torch.log(s_pos / (s_pos + s_neg.sum())))
    if not rows:
        return feats.sum() * 0, 0
    return torch.stack(rows).mean(), num_valid


def full_cfg(bank):
    return dict(
        temperature=bank.temperature,
        pos_sampling=bank.pos_sampling,
        neg_sampling=bank.neg_sampling,
        num_hard_pos=bank.num_hard_pos,
        num_hard_neg=bank.num_hard_neg,
        num_rand_pos=bank.num_rand_pos,
        num_rand_neg=bank.num_rand_neg)


class SampleSpy:
    """Records every index set (as bank slots) the bank selects in ``forward``,
    per anchor (valid entries only): positives from ``_sample_positives``,
    negatives from ``_sample`` over the whole bank."""

    def __init__(self, monkeypatch):
        original = ContrastiveMemoryBank._sample
        original_pos = ContrastiveMemoryBank._sample_positives
        signature = inspect.signature(original)
        self.calls = {'pos': [], 'neg': []}

        def record(kind, sets):
            per_set = []
            for idx, ok in sets:
                per_set.append(
                    [idx[b][ok[b]].tolist() for b in range(idx.shape[0])])
            self.calls[kind].append(per_set)

        def spy(bank, *args, **kwargs):
            sets = original(bank, *args, **kwargs)
            if signature.bind(bank, *args, **kwargs).arguments['hard_largest']:
                record('neg', sets)
            return sets

        def spy_pos(bank, *args, **kwargs):
            sets, num_candidates = original_pos(bank, *args, **kwargs)
            record('pos', sets)
            return sets, num_candidates

        monkeypatch.setattr(ContrastiveMemoryBank, '_sample', spy)
        monkeypatch.setattr(ContrastiveMemoryBank, '_sample_positives',
                            spy_pos)

    def last(self, kind):
        """[set][anchor] -> list of selected slots, of the last forward."""
        assert self.calls[kind], 'forward did not sample through _sample'
        return self.calls[kind][-1]


def split_sets(sets, anchor, strategy, hard_expected):
    """Of one anchor's selected sets, check the hard one (if any) against brute
    force and return the random one (or None)."""
    sets = [s[anchor] for s in sets]
    assert len(sets) == len(strategy.split('+'))
    if 'H' in strategy:
        matches = [
            i for i, s in enumerate(sets) if sorted(s) == sorted(hard_expected)
        ]
        assert matches, (sets, hard_expected)
        sets.pop(matches[0])
    return sets[0] if sets else None


# --------------------------------------------------------------------------
# Loss against the naive reference
# --------------------------------------------------------------------------
@pytest.mark.parametrize('pos_sampling,neg_sampling',
                         list(itertools.product(SAMPLINGS, SAMPLINGS)))
def test_loss_matches_reference_all_candidates(pos_sampling, neg_sampling):
    """Hard sets are deterministic, random sets ask for more than there are
    candidates (so they are all of them): the loss equals the reference."""
    for seed in range(3):
        bank = make_bank(
            num_samples=30 + 10 * seed,
            seed=seed,
            num_hard_pos=3,
            num_hard_neg=5,
            num_rand_pos=100,
            num_rand_neg=100,
            temperature=0.5,
            pos_sampling=pos_sampling,
            neg_sampling=neg_sampling)
        feats, labels, indices = make_batch(bank, seed=seed + 10)
        state = snapshot(bank)
        loss = bank(feats, labels, indices)
        ref, num_valid = reference_loss(state, feats, labels, indices,
                                        full_cfg(bank))
        assert num_valid > 0
        assert int(bank.last_num_valid) == num_valid
        torch.testing.assert_close(loss, ref, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('pos_sampling,neg_sampling',
                         list(itertools.product(SAMPLINGS, SAMPLINGS)))
def test_loss_matches_reference_subsampled(monkeypatch, pos_sampling,
                                           neg_sampling):
    """Random sets smaller than the candidates: the random sets the bank drew
    are checked (distinct, right candidates, right size), hard sets against
    brute force, and the loss against the reference on them."""
    spy = SampleSpy(monkeypatch)
    torch.manual_seed(0)
    bank = make_bank(
        num_samples=60,
        seed=3,
        num_hard_pos=2,
        num_hard_neg=4,
        num_rand_pos=3,
        num_rand_neg=5,
        temperature=0.8,
        pos_sampling=pos_sampling,
        neg_sampling=neg_sampling)
    feats, labels, indices = make_batch(bank, batch_size=8, seed=4)
    state = snapshot(bank)
    loss = bank(feats, labels, indices)
    query = F.normalize(feats.detach(), dim=1)
    rand_sets = {'pos': {}, 'neg': {}}
    for b in range(len(indices)):
        pos, neg = candidates(state, labels[b], int(indices[b]))
        sim = {j: float(query[b] @ state[0][j]) for j in pos + neg}
        for kind, cands, strategy, num_hard, num_rand, largest in (
            ('pos', pos, pos_sampling, 2, 3, False),
            ('neg', neg, neg_sampling, 4, 5, True),
        ):
            hard = sorted(
                cands, key=lambda j: sim[j], reverse=largest)[:num_hard]
            rand = split_sets(spy.last(kind), b, strategy, hard)
            if rand is not None:
                assert len(rand) == min(num_rand, len(cands))
                assert len(set(rand)) == len(rand)
                assert set(rand) <= set(cands)
                rand_sets[kind][b] = rand
    ref, num_valid = reference_loss(
        state, feats, labels, indices, full_cfg(bank), rand_sets=rand_sets)
    assert int(bank.last_num_valid) == num_valid > 0
    torch.testing.assert_close(loss, ref, rtol=1e-5, atol=1e-6)


def test_default_config_and_temperature():
    """Defaults (H positives, R+H negatives, tau=0.8) against the reference; a
    different temperature changes the loss accordingly."""
    bank = make_bank(num_samples=50, seed=5, num_rand_neg=1000)
    assert (bank.pos_sampling, bank.neg_sampling) == ('H', 'R+H')
    assert bank.temperature == 0.8
    assert (bank.num_hard_pos, bank.num_hard_neg) == (128, 512)
    feats, labels, indices = make_batch(bank, seed=6)
    state = snapshot(bank)
    loss = bank(feats, labels, indices)
    ref, _ = reference_loss(state, feats, labels, indices, full_cfg(bank))
    torch.testing.assert_close(loss, ref, rtol=1e-5, atol=1e-6)

    bank2 = make_bank(
        num_samples=50, seed=5, num_rand_neg=1000, temperature=0.1)
    loss2 = bank2(feats, labels, indices)
    ref2, _ = reference_loss(state, feats, labels, indices, full_cfg(bank2))
    torch.testing.assert_close(loss2, ref2, rtol=1e-5, atol=1e-5)
    assert not torch.allclose(loss, loss2)


def test_gradient_matches_reference():
    for pos_sampling, neg_sampling in (('H', 'R+H'), ('R+H', 'H'), ('R', 'R')):
        bank = make_bank(
            num_samples=45,
            seed=7,
            num_hard_pos=3,
            num_hard_neg=4,
            num_rand_pos=100,
            num_rand_neg=100,
            temperature=0.5,
            pos_sampling=pos_sampling,
            neg_sampling=neg_sampling)
        feats, labels, indices = make_batch(bank, seed=8)
        feats_ref = feats.detach().clone().requires_grad_()
        state = snapshot(bank)
        loss = bank(feats, labels, indices)
        loss.backward()
        ref, _ = reference_loss(state, feats_ref, labels, indices,
                                full_cfg(bank))
        ref.backward()
        assert torch.isfinite(feats.grad).all()
        assert feats.grad.abs().sum() > 0
        torch.testing.assert_close(
            feats.grad, feats_ref.grad, rtol=1e-4, atol=1e-6)


# --------------------------------------------------------------------------
# Sampling against brute force
# --------------------------------------------------------------------------
def test_hard_sets_are_extremes_and_exclude_own_and_unfilled(monkeypatch):
    spy = SampleSpy(monkeypatch)
    k_pos, k_neg = 3, 4
    bank = make_bank(
        num_samples=50,
        fill=0.7,
        seed=9,
        num_hard_pos=k_pos,
        num_hard_neg=k_neg,
        num_rand_neg=5,
        num_rand_pos=5,
        pos_sampling='R+H',
        neg_sampling='R+H')
    feats, labels, indices = make_batch(bank, batch_size=10, seed=10)
    # Anchors sitting on filled slots whose label matches: their own slot
    # would be a positive (and the most similar one if the anchor's feature
    # equals the stored one).
    own = [b for b in range(10) if bool(bank.filled[indices[b]])]
    with torch.no_grad():
        for b in own:
            labels[b] = bank.labels[indices[b]]
            feats[b] = bank.feats[indices[b]] * 3
    state = snapshot(bank)
    bank(feats, labels, indices)
    query = F.normalize(feats.detach(), dim=1)
    unfilled = set(torch.nonzero(~state[2]).view(-1).tolist())
    for b in range(10):
        pos, neg = candidates(state, labels[b], int(indices[b]))
        sims = query[b] @ state[0].t()
        lowest_pos = sorted(pos, key=lambda j: float(sims[j]))[:k_pos]
        highest_neg = sorted(neg, key=lambda j: -float(sims[j]))[:k_neg]
        rand_pos = split_sets(spy.last('pos'), b, 'R+H', lowest_pos)
        rand_neg = split_sets(spy.last('neg'), b, 'R+H', highest_neg)
        assert set(rand_pos) <= set(pos) and set(rand_neg) <= set(neg)
        for sets in (spy.last('pos'), spy.last('neg')):
            for s in sets:
                assert int(indices[b]) not in s[b]
                assert not unfilled & set(s[b])
    assert own  # the own-slot case was exercised


def test_random_negatives_uniform(monkeypatch):
    """Random negatives: distinct, negatives only, every negative equally
    often, every k-subset equally often (loose chi-square bounds)."""
    spy = SampleSpy(monkeypatch)
    torch.manual_seed(123)
    num_neg, k = 6, 2
    bank = ContrastiveMemoryBank(
        12, 4, num_hard_pos=1, num_rand_neg=k, neg_sampling='R')
    with torch.no_grad():
        bank.feats.copy_(F.normalize(torch.randn(12, 4), dim=1))
        # slots 0-1: label 0 (positives), 2-7: label 1 (negatives),
        # 8-11: unfilled (anchors write there).
        bank.labels.copy_(torch.tensor([0, 0] + [1] * num_neg + [-1] * 4))
        bank.filled.copy_(torch.arange(12) < 8)
    counts = torch.zeros(12)
    subsets = {s: 0 for s in itertools.combinations(range(2, 8), k)}
    draws = 0
    for trial in range(15):
        fresh = copy.deepcopy(bank)
        fresh.seed.fill_(trial)  # the draws are a function of the seed
        batch = 200
        feats = torch.randn(batch, 4)
        fresh(feats, torch.zeros(batch, dtype=torch.long),
              torch.randint(8, 12, (batch, )))
        (chosen, ) = spy.last('neg')
        for s in chosen:
            assert len(s) == k and len(set(s)) == k
            assert all(2 <= j < 8 for j in s)
            counts[s] += 1
            subsets[tuple(sorted(s))] += 1
            draws += 1
    expected = draws * k / num_neg
    chi2 = float(((counts[2:8] - expected)**2 / expected).sum())
    assert counts[:2].sum() == 0 and counts[8:].sum() == 0
    assert chi2 < 30, counts  # 5 dof; p ~ 1e-5
    exp_sub = draws / len(subsets)
    chi2_sub = sum((c - exp_sub)**2 / exp_sub for c in subsets.values())
    assert chi2_sub < 50, subsets  # 14 dof; p ~ 1e-5


def test_random_negative_uniform_seen_through_loss():
    """Public-API view: each random negative comes up about equally often.

    With one positive and one random negative per anchor, the loss
    softplus((s_neg - s_pos) / tau) tells which negative was drawn.
    """
    torch.manual_seed(7)
    tau = 0.5
    num_neg = 5
    bank = ContrastiveMemoryBank(
        8,
        2,
        num_hard_pos=1,
        num_rand_neg=1,
        neg_sampling='R',
        temperature=tau)
    angles = torch.tensor([0.0] + [0.3 + 0.5 * i for i in range(num_neg)])
    with torch.no_grad():
        bank.feats[:6] = torch.stack([angles.cos(), angles.sin()], 1)
        bank.labels[:6] = torch.tensor([0] + [1] * num_neg)
        bank.filled[:6] = True
    # Anchor along slot 0 (the positive): s+ = 1, s- = cos(angle).
    expected_loss = F.softplus((angles[1:].cos() - 1) / tau)
    counts = torch.zeros(num_neg)
    for trial in range(400):
        fresh = copy.deepcopy(bank)
        fresh.seed.fill_(trial)  # the draws are a function of the seed
        loss = fresh(
            torch.tensor([[2.0, 0.0]]), torch.tensor([0]), torch.tensor([7]))
        hit = (expected_loss - loss).abs() < 1e-5
        assert hit.sum() == 1, loss
        counts += hit
    expected = 400 / num_neg
    chi2 = float(((counts - expected)**2 / expected).sum())
    assert chi2 < 25, counts  # 4 dof


def test_fewer_candidates_than_asked_uses_all(monkeypatch):
    spy = SampleSpy(monkeypatch)
    bank = make_bank(
        num_samples=20,
        seed=11,
        num_hard_pos=128,
        num_hard_neg=512,
        num_rand_neg=512,
        num_rand_pos=128,
        pos_sampling='R+H',
        neg_sampling='R+H')
    feats, labels, indices = make_batch(bank, batch_size=4, seed=12)
    state = snapshot(bank)
    loss = bank(feats, labels, indices)
    for b in range(4):
        pos, neg = candidates(state, labels[b], int(indices[b]))
        for s in spy.last('pos'):
            assert sorted(s[b]) == pos
        for s in spy.last('neg'):
            assert sorted(s[b]) == neg
    ref, num_valid = reference_loss(state, feats, labels, indices,
                                    full_cfg(bank))
    assert int(bank.last_num_valid) == num_valid == 4
    torch.testing.assert_close(loss, ref, rtol=1e-5, atol=1e-6)


# --------------------------------------------------------------------------
# Write-after-compute, skipping, gradients
# --------------------------------------------------------------------------
def test_loss_uses_bank_before_batch_then_writes():
    bank = make_bank(
        num_samples=40,
        seed=13,
        num_hard_pos=3,
        num_hard_neg=4,
        num_rand_neg=100)
    before = copy.deepcopy(bank)
    feats, labels, indices = make_batch(bank, seed=14)
    loss = bank(feats, labels, indices)
    # The same batch on an untouched copy, one anchor at a time (so no
    # anchor can see another's write): same per-anchor losses.
    per_anchor = []
    for b in range(len(indices)):
        single = copy.deepcopy(before)
        per_anchor.append(
            (single(feats[b:b + 1], labels[b:b + 1],
                    indices[b:b + 1]), int(single.last_num_valid)))
    num_valid = sum(n for _, n in per_anchor)
    assert int(bank.last_num_valid) == num_valid
    ref, _ = reference_loss(
        snapshot(before), feats, labels, indices, full_cfg(bank))
    torch.testing.assert_close(loss, ref, rtol=1e-5, atol=1e-6)

    # The batch's features were written afterwards, normalised, detached.
    torch.testing.assert_close(bank.feats[indices],
                               F.normalize(feats.detach(), dim=1))
    assert torch.equal(bank.labels[indices], labels)
    assert bank.filled[indices].all()
    others = torch.ones(40, dtype=torch.bool)
    others[indices] = False
    assert torch.equal(bank.feats[others], before.feats[others])
    assert torch.equal(bank.labels[others], before.labels[others])
    assert torch.equal(bank.filled[others], before.filled[others])
    for name in ('feats', 'labels', 'filled'):
        buf = getattr(bank, name)
        assert not buf.requires_grad and buf.grad_fn is None
        assert name in dict(bank.named_buffers())
    assert not list(bank.parameters())

    loss.backward()
    assert torch.isfinite(feats.grad).all() and feats.grad.abs().sum() > 0
    assert bank.feats.grad is None


def test_batch_does_not_see_its_own_writes():
    """Two same-label anchors, a bank holding only other labels: had the batch
    been written before the loss, each would be the other's positive."""
    bank = ContrastiveMemoryBank(10, 4)
    with torch.no_grad():
        bank.feats[:5] = F.normalize(torch.randn(5, 4), dim=1)
        bank.labels[:5] = 1
        bank.filled[:5] = True
    feats = torch.randn(2, 4, requires_grad=True)
    loss = bank(feats, torch.tensor([0, 0]), torch.tensor([6, 7]))
    assert int(bank.last_num_valid) == 0
    assert loss.item() == 0
    # Next batch: now they are there.
    loss = bank(feats, torch.tensor([0, 0]), torch.tensor([6, 7]))
    assert int(bank.last_num_valid) == 2
    assert loss.item() > 0


def test_backward_after_a_later_write():
    """The first loss's backward after a second forward has overwritten slots
    it selected: either a clear error or the gradient of the bank the loss was
    computed against, never a silently different one."""
    bank = make_bank(num_samples=30, seed=17, num_rand_neg=100)
    feats, labels, indices = make_batch(bank, seed=18)
    state = snapshot(bank)
    loss = bank(feats, labels, indices)
    # Overwrite every filled slot with other features.
    filled = torch.nonzero(bank.filled).view(-1)
    bank(
        torch.randn(len(filled), 8),
        torch.zeros(len(filled), dtype=torch.long), filled)
    ref_feats = feats.detach().clone().requires_grad_()
    ref, _ = reference_loss(state, ref_feats, labels, indices, full_cfg(bank))
    ref.backward()
    try:
        loss.backward()
    except RuntimeError as err:
        assert 'memory bank' in str(err) or 'modified' in str(err)
    else:
        torch.testing.assert_close(
            feats.grad, ref_feats.grad, rtol=1e-4, atol=1e-6)


def test_own_slot_is_not_a_positive():
    bank = ContrastiveMemoryBank(10, 4)
    with torch.no_grad():
        bank.feats[:6] = F.normalize(torch.randn(6, 4), dim=1)
        bank.labels[:6] = torch.tensor([0, 1, 1, 1, 2, 2])
        bank.filled[:6] = True
    # Anchor 0 sits on slot 0, the only label-0 slot: skipped. Anchor 1
    # (label 1, slot 1) still has slots 2 and 3.
    feats = torch.randn(2, 4, requires_grad=True)
    labels, indices = torch.tensor([0, 1]), torch.tensor([0, 1])
    state = snapshot(bank)
    loss = bank(feats, labels, indices)
    assert int(bank.last_num_valid) == 1
    ref, num_valid = reference_loss(state, feats, labels, indices,
                                    full_cfg(bank))
    assert num_valid == 1
    torch.testing.assert_close(loss, ref, rtol=1e-5, atol=1e-6)
    loss.backward()
    assert feats.grad[0].abs().sum() == 0
    assert feats.grad[1].abs().sum() > 0


def test_empty_bank_and_skip_counting():
    bank = ContrastiveMemoryBank(8, 4)
    feats = torch.randn(3, 4, requires_grad=True)
    loss = bank(feats, torch.tensor([0, 1, 2]), torch.tensor([0, 1, 2]))
    assert loss.dim() == 0 and loss.item() == 0
    assert loss.requires_grad
    assert int(bank.last_num_valid) == 0
    loss.backward()
    assert feats.grad is not None and torch.equal(feats.grad, torch.zeros(
        3, 4))
    assert bank.filled.tolist() == [True] * 3 + [False] * 5

    # Partial: slots 0-2 hold labels 0, 1, 2. Anchor a (label 0, slot 3):
    # positive 0, negatives 1-2 -> counts. Anchor b (label 3, slot 4): no
    # positive. Anchor c (label 1, slot 1): own slot is its only positive.
    feats = torch.randn(3, 4, requires_grad=True)
    loss = bank(feats, torch.tensor([0, 3, 1]), torch.tensor([3, 4, 1]))
    assert int(bank.last_num_valid) == 1
    assert torch.isfinite(loss) and loss.item() > 0
    loss.backward()
    assert feats.grad[0].abs().sum() > 0
    assert feats.grad[1:].abs().sum() == 0

    # No negatives at all: every slot has the anchor's label.
    bank = ContrastiveMemoryBank(6, 4)
    with torch.no_grad():
        bank.feats[:] = F.normalize(torch.randn(6, 4), dim=1)
        bank.labels[:] = 2
        bank.filled[:] = True
    feats = torch.randn(2, 4, requires_grad=True)
    loss = bank(feats, torch.tensor([2, 2]), torch.tensor([0, 1]))
    assert int(bank.last_num_valid) == 0 and loss.item() == 0
    loss.backward()
    assert torch.isfinite(feats.grad).all() and feats.grad.abs().sum() == 0


def test_loss_is_batch_row_mean():
    """Rows are averaged over all anchors' rows, not per anchor: an anchor with
    more positives weighs more (reference on a two-anchor batch)."""
    bank = ContrastiveMemoryBank(
        12, 4, num_hard_pos=10, num_hard_neg=10, neg_sampling='H')
    with torch.no_grad():
        bank.feats[:8] = F.normalize(torch.randn(8, 4), dim=1)
        bank.labels[:8] = torch.tensor([0, 0, 0, 0, 0, 1, 2, 2])
        bank.filled[:8] = True
    feats = torch.randn(2, 4, requires_grad=True)
    labels, indices = torch.tensor([0, 1]), torch.tensor([9, 10])
    state = snapshot(bank)
    loss = bank(feats, labels, indices)
    ref, _ = reference_loss(state, feats, labels, indices, full_cfg(bank))
    torch.testing.assert_close(loss, ref, rtol=1e-5, atol=1e-6)
    # 5 rows for anchor 0, 1 row for anchor 1.
    l0, _ = reference_loss(state, feats[:1], labels[:1], indices[:1],
                           full_cfg(bank))
    l1, _ = reference_loss(state, feats[1:], labels[1:], indices[1:],
                           full_cfg(bank))
    torch.testing.assert_close(loss, (5 * l0 + l1) / 6, rtol=1e-5, atol=1e-6)


# --------------------------------------------------------------------------
# Allocation, state dict, errors
# --------------------------------------------------------------------------
def test_state_dict_round_trip():
    bank = make_bank(num_samples=30, seed=15)
    feats, labels, indices = make_batch(bank, seed=16)
    bank(feats, labels, indices)
    state = bank.state_dict()
    assert set(state) == {'feats', 'labels', 'filled', 'seed', 'num_updates'}
    fresh = ContrastiveMemoryBank(None, 8)
    assert fresh.num_samples == 0
    fresh.load_state_dict(state)
    assert fresh.num_samples == 30
    for name in ('feats', 'labels', 'filled'):
        assert torch.equal(getattr(fresh, name), getattr(bank, name))
        assert getattr(fresh, name).dtype == getattr(bank, name).dtype
    # Same-size bank: restored too.
    same = ContrastiveMemoryBank(30, 8)
    same.load_state_dict(state)
    assert torch.equal(same.feats, bank.feats)
    assert torch.equal(same.filled, bank.filled)
    # Nested under a prefix, as in a head.
    parent = torch.nn.ModuleDict(dict(spatial=ContrastiveMemoryBank(None, 8)))
    parent.load_state_dict({f'spatial.{k}': v for k, v in state.items()})
    assert torch.equal(parent['spatial'].labels, bank.labels)

    wrong = ContrastiveMemoryBank(20, 8)
    with pytest.raises(ValueError, match=r'30.*20|20.*30'):
        wrong.load_state_dict(state)


def test_allocate():
    bank = ContrastiveMemoryBank(None, 5)
    with pytest.raises(RuntimeError, match='MemoryBankInitHook'):
        bank(torch.randn(2, 5), torch.tensor([0, 1]), torch.tensor([0, 1]))
    bank.allocate(7)
    assert bank.feats.shape == (7, 5) and bank.labels.shape == (7, )
    assert bank.filled.shape == (7, ) and bank.filled.dtype == torch.bool
    assert not bank.filled.any()
    bank(torch.randn(2, 5), torch.tensor([0, 1]), torch.tensor([0, 1]))
    kept = bank.feats.clone()
    bank.allocate(7)  # same size: a no-op that keeps the contents
    assert torch.equal(bank.feats, kept) and bank.filled.sum() == 2
    with pytest.raises(ValueError, match=r'7.*9'):
        bank.allocate(9)
    with pytest.raises(ValueError):
        ContrastiveMemoryBank(None, 5).allocate(0)


def test_invalid_inputs():
    bank = ContrastiveMemoryBank(6, 4)
    with pytest.raises(ValueError, match='6'):
        bank(torch.randn(1, 4), torch.tensor([0]), torch.tensor([6]))
    with pytest.raises(ValueError):
        bank(torch.randn(1, 4), torch.tensor([0]), torch.tensor([-1]))
    with pytest.raises(ValueError):
        bank(torch.randn(1, 3), torch.tensor([0]), torch.tensor([0]))
    assert not bank.filled.any()  # nothing written by failed calls
    for kwargs in (dict(pos_sampling='X'), dict(neg_sampling='HR'),
                   dict(temperature=0), dict(num_hard_pos=0),
                   dict(neg_sampling='R', num_rand_neg=0)):
        with pytest.raises(ValueError):
            ContrastiveMemoryBank(6, 4, **kwargs)


# --------------------------------------------------------------------------
# Distributed: every rank holds the same bank
# --------------------------------------------------------------------------
DIST_L, DIST_D, DIST_STEPS = 24, 6, 4
DIST_SIZES = (3, 5)


def _dist_indices(step, rank):
    """Disjoint indices of the two ranks at one step (3 for rank 0, 5 for rank
    1), different from step to step, overlapping across steps."""
    perm = torch.randperm(
        DIST_L, generator=torch.Generator().manual_seed(step))
    return perm[:3] if rank == 0 else perm[3:8]


def _dist_worker(rank, world_size, port, out_dir):
    dist.init_process_group(
        'gloo',
        init_method=f'tcp://127.0.0.1:{port}',
        rank=rank,
        world_size=world_size)
    try:
        torch.manual_seed(1000 + rank)
        bank = ContrastiveMemoryBank(
            DIST_L, DIST_D, num_hard_pos=2, num_hard_neg=3, num_rand_neg=100)
        record = []
        for step in range(DIST_STEPS):
            batch = DIST_SIZES[rank]
            feats = torch.randn(batch, DIST_D, requires_grad=True)
            labels = torch.randint(0, 3, (batch, ))
            indices = _dist_indices(step, rank)
            loss = bank(feats, labels, indices)
            loss.backward()
            record.append(
                dict(
                    feats=feats.detach(),
                    labels=labels,
                    indices=indices,
                    loss=loss.detach(),
                    grad=feats.grad,
                    num_valid=int(bank.last_num_valid)))
        torch.save(
            dict(state=bank.state_dict(), record=record),
            osp.join(out_dir, f'rank{rank}.pth'))
    finally:
        dist.destroy_process_group()


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def test_distributed_banks_identical(tmp_path):
    mp.spawn(
        _dist_worker,
        args=(2, _free_port(), str(tmp_path)),
        nprocs=2,
        join=True)
    out = [torch.load(tmp_path / f'rank{r}.pth') for r in range(2)]
    for name in ('feats', 'labels', 'filled'):
        assert torch.equal(out[0]['state'][name], out[1]['state'][name])

    # Replay every rank's writes in step order on a local bank: each
    # rank's loss at each step must match the reference on the bank as all
    # ranks had written it before that step, and the final banks must
    # equal the replayed one.
    replay = ContrastiveMemoryBank(
        DIST_L, DIST_D, num_hard_pos=2, num_hard_neg=3, num_rand_neg=100)
    cfg = full_cfg(replay)
    for step in range(DIST_STEPS):
        state = snapshot(replay)
        for rank in range(2):
            rec = out[rank]['record'][step]
            assert len(rec['indices']) == DIST_SIZES[rank]
            feats = rec['feats'].clone().requires_grad_()
            ref, num_valid = reference_loss(state, feats, rec['labels'],
                                            rec['indices'], cfg)
            assert rec['num_valid'] == num_valid
            torch.testing.assert_close(
                rec['loss'], ref.detach(), rtol=1e-5, atol=1e-6)
            # The gradient is that of the bank before the step, although
            # backward ran after every rank's writes of the step.
            ref.backward()
            torch.testing.assert_close(
                rec['grad'], feats.grad, rtol=1e-4, atol=1e-6)
        with torch.no_grad():
            for rank in range(2):
                rec = out[rank]['record'][step]
                replay.feats[rec['indices']] = F.normalize(rec['feats'], dim=1)
                replay.labels[rec['indices']] = rec['labels']
                replay.filled[rec['indices']] = True
    assert any(out[r]['record'][-1]['num_valid'] for r in range(2))
    for name in ('feats', 'labels', 'filled'):
        torch.testing.assert_close(out[0]['state'][name],
                                   getattr(replay, name))
    written = torch.cat([
        rec['indices'] for r in range(2) for rec in out[r]['record']
    ]).unique()
    assert torch.equal(
        torch.nonzero(out[0]['state']['filled']).view(-1), written)


def test_duplicate_indices_keep_the_last_occurrence():
    bank = ContrastiveMemoryBank(6, 4)
    feats = torch.randn(3, 4)
    bank(feats, torch.tensor([0, 1, 2]), torch.tensor([5, 2, 5]))
    torch.testing.assert_close(bank.feats[5], F.normalize(feats[2], dim=0))
    torch.testing.assert_close(bank.feats[2], F.normalize(feats[1], dim=0))
    assert bank.labels[5].item() == 2
    assert bank.filled.tolist() == [False, False, True, False, False, True]


def test_resumed_bank_draws_exactly_what_an_uninterrupted_one_draws():
    torch.manual_seed(0)
    batches = [(torch.randn(6,
                            8), torch.randint(3,
                                              (6, )), torch.randperm(40)[:6])
               for _ in range(4)]
    kwargs = dict(
        num_hard_pos=2,
        num_hard_neg=3,
        num_rand_neg=5,
        pos_sampling='R+H',
        num_rand_pos=2,
        seed=123)
    straight = ContrastiveMemoryBank(40, 8, **kwargs)
    losses = [straight(*b).item() for b in batches]

    first = ContrastiveMemoryBank(40, 8, **kwargs)
    for b in batches[:2]:
        first(*b)
    torch.manual_seed(999)  # a resumed process has other global RNG state
    resumed = ContrastiveMemoryBank(None, 8, **dict(kwargs, seed=7))
    resumed.load_state_dict(first.state_dict())
    resumed_losses = [resumed(*b).item() for b in batches[2:]]
    assert resumed_losses == losses[2:]
    for key, value in straight.state_dict().items():
        torch.testing.assert_close(
            resumed.state_dict()[key], value, rtol=0, atol=0)


@pytest.mark.parametrize('density,fast', [(0.9, True), (0.3, True),
                                          (0.02, False)])
def test_random_subset_is_uniform_without_replacement(monkeypatch, density,
                                                      fast):
    """Both paths of _random_subset (draw-order filtering when candidates are
    plentiful, iid keys when sparse) give distinct candidates, all of them when
    fewer than k, and every candidate equally often."""
    N, k = 400, 6
    torch.manual_seed(0)
    mask = torch.rand(1, N) < density
    sparse = torch.zeros(1, N, dtype=torch.bool)
    sparse[0, [3, 77, 200]] = True  # fewer than k candidates
    keys_path = []
    original = ContrastiveMemoryBank._select
    monkeypatch.setattr(
        ContrastiveMemoryBank, '_select',
        staticmethod(
            lambda *a, **kw: keys_path.append(1) or original(*a, **kw)))
    counts = torch.zeros(N)
    bank = ContrastiveMemoryBank(4, 2)
    trials = 600
    for trial in range(trials):
        bank.seed.fill_(trial)
        idx, ok = bank._random_subset(mask, k, stream=1)
        row = idx[0][ok[0]]
        assert len(row) == min(k, int(mask[0].sum()))
        assert len(set(row.tolist())) == len(row)
        assert bool(mask[0, row].all())
        counts[row] += 1
    assert bool(keys_path) != fast
    idx, ok = bank._random_subset(sparse, k, stream=1)
    assert sorted(idx[0][ok[0]].tolist()) == [3, 77, 200]
    cand = mask[0].nonzero().flatten()
    expected = trials * min(k, len(cand)) / len(cand)
    chi2 = float(((counts[cand] - expected)**2 / expected).sum())
    # chi-square with len(cand)-1 dof: mean dof, sd sqrt(2 dof).
    dof = len(cand) - 1
    assert chi2 < dof + 6 * (2 * dof)**0.5, chi2
    assert counts[~mask[0]].sum() == 0


# --------------------------------------------------------------------------
# Official regime: the anchor rule and candidate counts relative to the bank
# --------------------------------------------------------------------------
def hand_built_bank(**cfg):
    """12 filled slots: class 0 in slots 0-2, class 1 in slots 3-11."""
    bank = ContrastiveMemoryBank(12, 4, **cfg)
    bank.feats.copy_(
        F.normalize(
            torch.randn(12, 4, generator=torch.Generator().manual_seed(0)),
            dim=1))
    bank.labels.copy_(torch.tensor([0] * 3 + [1] * 9))
    bank.filled.fill_(True)
    return bank


@pytest.mark.parametrize('rule, expected', [('available', 2), ('complete', 1)])
def test_anchor_rule_on_a_hand_built_bank(rule, expected):
    # Candidates asked: 3 hard positives, 3 hard + 3 random negatives.
    # The class-0 anchor (slot 0) has 2 positives (slots 1, 2; not itself)
    # and 9 negatives; the class-1 anchor (slot 3) 8 positives, 3
    # negatives. 'complete' drops the class-0 anchor only.
    bank = hand_built_bank(
        num_hard_pos=3,
        num_hard_neg=3,
        num_rand_neg=3,
        anchor_rule=rule,
        seed=0)
    feats = torch.randn(2, 4, requires_grad=True)
    loss = bank(feats, torch.tensor([0, 1]), torch.tensor([0, 3]))
    assert int(bank.last_num_valid) == expected
    assert loss.requires_grad and torch.isfinite(loss)


def test_complete_rule_waits_for_full_negative_sets():
    bank = hand_built_bank(
        num_hard_pos=1,
        num_hard_neg=4,
        num_rand_neg=0,
        neg_sampling='H',
        anchor_rule='complete',
        seed=0)
    # class 1 anchors see 3 negatives (< 4): skipped; class 0 see 9
    bank(torch.randn(2, 4), torch.tensor([1, 0]), torch.tensor([4, 1]))
    assert int(bank.last_num_valid) == 1
    loss = bank(torch.randn(1, 4), torch.tensor([1]), torch.tensor([5]))
    assert int(bank.last_num_valid) == 0 and float(loss) == 0.0


def test_complete_rule_equals_available_when_sets_are_full():
    cfg = dict(num_hard_pos=2, num_hard_neg=2, num_rand_neg=2, seed=3)
    feats = torch.randn(2, 4)
    args = (torch.tensor([0, 1]), torch.tensor([0, 3]))
    losses = [
        hand_built_bank(anchor_rule=rule, **cfg)(feats, *args)
        for rule in ('available', 'complete')
    ]
    assert torch.equal(losses[0], losses[1])


def test_relative_counts_scale_with_the_bank():
    bank = ContrastiveMemoryBank(
        5100,
        4,
        num_hard_pos=0.025,
        num_hard_neg=0.1,
        num_rand_neg=0.1,
        relative_counts=True,
        seed=0)
    assert [bank._count(c) for c in (0.025, 0.1, 0.0)] == [128, 510, 0]
    small = ContrastiveMemoryBank(
        12,
        4,
        num_hard_pos=0.01,
        num_hard_neg=0.5,
        num_rand_neg=0.5,
        relative_counts=True,
        seed=0)
    assert small._count(0.01) == 1  # at least one when asked for any
    # relative to 12 slots: 0.25 * 12 = 3 positives wanted, the class-0
    # anchor has 2
    bank = hand_built_bank(
        num_hard_pos=0.25,
        num_hard_neg=0.25,
        num_rand_neg=0.25,
        relative_counts=True,
        anchor_rule='complete',
        seed=0)
    bank(torch.randn(2, 4), torch.tensor([0, 1]), torch.tensor([0, 3]))
    assert int(bank.last_num_valid) == 1
    assert 'relative_counts=True' in bank.extra_repr()


def test_regime_options_are_validated():
    with pytest.raises(ValueError, match='anchor_rule'):
        ContrastiveMemoryBank(4, 4, anchor_rule='all')
    with pytest.raises(ValueError, match='fractions'):
        ContrastiveMemoryBank(4, 4, num_hard_pos=128, relative_counts=True)


def test_bank_seed_draw_leaves_the_global_rng_alone():
    torch.manual_seed(7)
    expected = torch.rand(3)
    torch.manual_seed(7)
    ContrastiveMemoryBank(4, 4)  # seed=None: derived without drawing
    assert torch.equal(torch.rand(3), expected)


@pytest.mark.parametrize('bad', [float('nan'), float('inf')])
def test_refuses_non_finite_writes_and_stays_unchanged(bad):
    bank = make_bank()
    feats, labels, indices = make_batch(bank)
    with torch.no_grad():
        feats[1, 0] = bad
        feats[4, 2] = bad
    before, updates = snapshot(bank), int(bank.num_updates)
    with pytest.raises(
            NonFiniteStateError,
            match='ContrastiveMemoryBank refused to write 2 of 6 feature '
            'rows') as info:
        bank(feats, labels, indices)
    assert info.value.module is bank and info.value.num_rows == 2
    for old, new in zip(before, snapshot(bank)):
        assert torch.equal(old, new)
    assert int(bank.num_updates) == updates


def test_refuses_non_finite_checkpoint_features():
    state = make_bank().state_dict()
    state['feats'][3] = float('nan')
    fresh = ContrastiveMemoryBank(None, 8)
    with pytest.raises(NonFiniteStateError, match='1 of 40 checkpoint'):
        fresh.load_state_dict(state)
    assert fresh.num_samples == 0
