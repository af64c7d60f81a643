"""Paired comparison of two training arms over seeds.

Two arms (e.g. a baseline and the same encoder with CSRE) trained with the
same seeds are compared seed by seed on the same test samples: the paired
differences of their top-1 accuracies give a confidence interval of the
mean gain (paired t over seeds, and a bootstrap over seeds and test
samples), McNemar's exact test says per seed whether the two runs disagree
on more samples than chance, and the spread of the differences says how
many seeds a given gain needs to be detected.

A run may be scored by several of its evaluations (e.g. the last five):
its per-sample correctness is then the fraction of those evaluations that
classified the sample right, and its top-1 is their mean top-1.
"""
from dataclasses import asdict, dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from scipy import optimize, stats

from .dumps import load_runs, predictions
from .errors import AnalysisError


@dataclass
class ArmScores:
    """Per-sample correctness of one arm's runs, rows paired by seed.

    Args:
        name (str): Arm name.
        mean_correct (np.ndarray): (S, N) fraction of a run's scored
            evaluations that got each sample right.
        final_correct (np.ndarray): (S, N) bool, the last scored evaluation.
        evaluations (list[int]): Evaluations scored per run.
    """
    name: str
    mean_correct: np.ndarray
    final_correct: np.ndarray
    evaluations: List[int]

    @property
    def top1(self) -> np.ndarray:
        """(S,) top-1 accuracy of each run, in points."""
        return 100.0 * self.mean_correct.mean(axis=1)


def split_items(items: Sequence[str]) -> List[List[str]]:
    """``'a.pkl,b.pkl'`` items as lists of dump paths (one list per run)."""
    runs = []
    for item in items:
        paths = [p for p in item.split(',') if p]
        if not paths:
            raise AnalysisError(f'empty run item {item!r}')
        runs.append(paths)
    return runs


def load_arms(baseline: Sequence[str], method: Sequence[str],
              names: Tuple[str, str]) -> Tuple[ArmScores, ArmScores, List]:
    """Load both arms' dumps and match every dump to the same samples.

    Args:
        baseline (Sequence[str]): One item per seed; an item is a dump path
            or several comma-joined dumps of the same run.
        method (Sequence[str]): Same for the method arm, paired by position.
        names (tuple[str, str]): Arm names for messages.

    Returns:
        tuple: The two :class:`ArmScores` and the sample ids (N,).

    Raises:
        AnalysisError: Unequal numbers of runs, unreadable dumps, or dumps
            of different sample sets or labels.
    """
    if len(baseline) != len(method):
        raise AnalysisError(
            f'{len(baseline)} {names[0]} runs but {len(method)} '
            f'{names[1]} runs: runs are paired by position (seed), give the '
            'same number of each')
    if len(baseline) < 2:
        raise AnalysisError('a paired comparison needs at least 2 seeds, '
                            f'got {len(baseline)}')
    runs = split_items(baseline) + split_items(method)
    paths = [p for run in runs for p in run]
    labels = [
        f'{names[arm >= len(baseline)]} seed #{arm % len(baseline)} '
        f'({p})' for arm, run in enumerate(runs) for p in run
    ]
    loaded = load_runs(paths, labels)
    dumps = iter(loaded)
    arms = []
    per_arm = (runs[:len(baseline)], runs[len(baseline):])
    for arm, arm_runs in enumerate(per_arm):
        mean_rows, final_rows, counts = [], [], []
        for run in arm_runs:
            correct = np.stack([
                predictions(d) == d['labels']
                for d in (next(dumps) for _ in run)
            ])
            mean_rows.append(correct.mean(axis=0))
            final_rows.append(correct[-1])
            counts.append(len(run))
        arms.append(
            ArmScores(names[arm], np.stack(mean_rows), np.stack(final_rows),
                      counts))
    return arms[0], arms[1], list(loaded[0]['frame_dir'])


def paired_t(diffs: np.ndarray, level: float = 0.95) -> Dict[str, float]:
    """Mean of paired differences with its t confidence interval.

    Args:
        diffs (np.ndarray): (S,) per-seed differences, S >= 2.
        level (float): Confidence level. Defaults to 0.95.

    Returns:
        dict: ``mean``, ``sd`` (sample SD), ``se``, ``lo``, ``hi``, ``t``
        and the two-sided ``p`` of "mean difference is 0".
    """
    n = len(diffs)
    mean = float(np.mean(diffs))
    sd = float(np.std(diffs, ddof=1))
    se = sd / np.sqrt(n)
    half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * se
    if se > 0:
        t = mean / se
        p = float(2 * stats.t.sf(abs(t), n - 1))
    else:
        t, p = (float('inf') if mean else 0.0), (0.0 if mean else 1.0)
    return dict(
        mean=mean, sd=sd, se=se, lo=mean - half, hi=mean + half, t=t, p=p)


def bootstrap_ci(base: np.ndarray,
                 method: np.ndarray,
                 level: float = 0.95,
                 num_boot: int = 10000,
                 seed: int = 0,
                 chunk: int = 250) -> Dict[str, float]:
    """Percentile bootstrap of the mean paired difference over seeds and test
    samples.

    Each replicate draws the seeds with replacement and, independently, the
    test samples with replacement; the drawn samples are shared by all seeds,
    as the test set is. The interval therefore covers both the training noise
    and the test set's sampling noise.

    Args:
        base (np.ndarray): (S, N) per-sample correctness of the baseline.
        method (np.ndarray): (S, N) same for the method.
        level (float): Confidence level. Defaults to 0.95.
        num_boot (int): Replicates. Defaults to 10000.
        seed (int): Seed of the resampling. Defaults to 0.
        chunk (int): Replicates drawn at a time (memory). Defaults to 250.

    Returns:
        dict: ``lo`` and ``hi`` in points, ``num_boot``.
    """
    diff = 100.0 * (method - base)  # (S, N)
    num_seeds, num_samples = diff.shape
    rng = np.random.default_rng(seed)
    means = []
    for start in range(0, num_boot, chunk):
        b = min(chunk, num_boot - start)
        samples = rng.integers(0, num_samples, (b, num_samples))
        seeds = rng.integers(0, num_seeds, (b, num_seeds))
        per_seed = diff[:, samples].mean(axis=-1)  # (S, b)
        means.append(per_seed[seeds, np.arange(b)[:, None]].mean(axis=1))
    means = np.concatenate(means)
    tail = 100 * (1 - level) / 2
    lo, hi = np.percentile(means, [tail, 100 - tail])
    return dict(lo=float(lo), hi=float(hi), num_boot=num_boot)


def mcnemar_exact(base: np.ndarray, method: np.ndarray) -> Dict[str, float]:
    """McNemar's exact test of two classifiers on the same samples.

    Args:
        base (np.ndarray): (N,) bool, baseline correct.
        method (np.ndarray): (N,) bool, method correct.

    Returns:
        dict: ``base_only`` (baseline right, method wrong), ``method_only``
        and the two-sided exact binomial ``p``.
    """
    base, method = np.asarray(base, bool), np.asarray(method, bool)
    b = int(np.sum(base & ~method))
    c = int(np.sum(~base & method))
    p = 1.0 if b + c == 0 else min(
        1.0, 2 * float(stats.binom.cdf(min(b, c), b + c, 0.5)))
    return dict(base_only=b, method_only=c, p=p)


def paired_power(effect: float,
                 sd: float,
                 num_seeds: int,
                 alpha: float = 0.05) -> float:
    """Power of the two-sided paired t test to detect ``effect``.

    Args:
        effect (float): True mean difference (points).
        sd (float): SD of the per-seed differences (points).
        num_seeds (int): Paired seeds, >= 2.
        alpha (float): Significance level. Defaults to 0.05.

    Returns:
        float: Probability of rejecting "no difference".
    """
    if sd <= 0:
        return 1.0 if effect else alpha
    df = num_seeds - 1
    crit = stats.t.ppf(1 - alpha / 2, df)
    shift = effect / (sd / np.sqrt(num_seeds))
    power = float(
        stats.nct.sf(crit, df, shift) + stats.nct.cdf(-crit, df, shift))
    if np.isnan(power):  # scipy's noncentral t fails far in its tail
        return 1.0 if abs(shift) > crit else alpha
    return power


def seeds_needed(effect: float,
                 sd: float,
                 power: float = 0.8,
                 alpha: float = 0.05,
                 limit: int = 10000) -> Optional[int]:
    """Fewest paired seeds that detect ``effect`` with ``power``; None if more
    than ``limit``."""
    for n in range(2, limit + 1):
        if paired_power(effect, sd, n, alpha) >= power:
            return n
    return None


def detectable_effect(sd: float,
                      num_seeds: int,
                      power: float = 0.8,
                      alpha: float = 0.05) -> float:
    """Smallest mean difference (points) that ``num_seeds`` paired seeds detect
    with ``power``."""
    if sd <= 0:
        return 0.0
    hi = sd  # grow the bracket: the noncentral t is NaN far in its tail
    while paired_power(hi, sd, num_seeds, alpha) < power:
        hi *= 2
    return float(
        optimize.brentq(
            lambda e: paired_power(e, sd, num_seeds, alpha) - power, 1e-9, hi))


@dataclass
class PairedComparison:
    """Everything :func:`compare_arms` measured (points throughout).

    Args:
        names (tuple[str, str]): Baseline and method arm names.
        seeds (list[str]): Seed labels, one per pair.
        num_samples (int): Test samples N.
        evaluations (tuple[list[int], list[int]]): Evaluations scored per
            run, per arm.
        base_top1 (list[float]): (S,) baseline top-1 per seed.
        method_top1 (list[float]): (S,) method top-1 per seed.
        diffs (list[float]): (S,) method minus baseline.
        mcnemar (list[dict]): Per seed, :func:`mcnemar_exact` of the final
            evaluations.
        t_test (dict): :func:`paired_t` of ``diffs``.
        bootstrap (dict): :func:`bootstrap_ci` over seeds and samples.
        level (float): Confidence level.
        effect (float): Gain whose detection power is reported.
        power (float): Power of the paired t test to detect ``effect``.
        seeds_for_80 (int, optional): Paired seeds that detect ``effect``
            with 80 % power (None: more than 10000).
        detectable_80 (float): Gain these seeds detect with 80 % power.
        notes (list[str]): Free-form remarks. Defaults to [].
    """
    names: Tuple[str, str]
    seeds: List[str]
    num_samples: int
    evaluations: Tuple[List[int], List[int]]
    base_top1: List[float]
    method_top1: List[float]
    diffs: List[float]
    mcnemar: List[Dict[str, float]]
    t_test: Dict[str, float]
    bootstrap: Dict[str, float]
    level: float
    effect: float
    power: float
    seeds_for_80: Optional[int]
    detectable_80: float
    notes: List[str] = field(default_factory=list)

    def summary_line(self) -> str:
        """``mean difference +X.XX points, 95% CI [LO, HI] (N seeds)``."""
        t = self.t_test
        return (f'mean difference {t["mean"]:+.2f} points, '
                f'{100 * self.level:g}% CI [{t["lo"]:+.2f}, {t["hi"]:+.2f}] '
                f'({len(self.diffs)} seeds)')

    def to_dict(self) -> Dict:
        return asdict(self)


def compare_arms(base: ArmScores,
                 method: ArmScores,
                 seeds: Optional[Sequence[str]] = None,
                 level: float = 0.95,
                 num_boot: int = 10000,
                 boot_seed: int = 0,
                 effect: float = 1.0) -> PairedComparison:
    """Paired statistics of ``method`` minus ``base``.

    Args:
        base (ArmScores): Baseline runs, one row per seed.
        method (ArmScores): Method runs, paired by row.
        seeds (Sequence[str], optional): Seed labels. Defaults to 0..S-1.
        level (float): Confidence level. Defaults to 0.95.
        num_boot (int): Bootstrap replicates. Defaults to 10000.
        boot_seed (int): Bootstrap seed. Defaults to 0.
        effect (float): Gain (points) whose detection power is reported.
            Defaults to 1.0.

    Returns:
        PairedComparison: Per-seed scores, differences, McNemar tests, the
        t and bootstrap intervals and the power figures.
    """
    num_seeds = base.mean_correct.shape[0]
    seeds = [str(s) for s in (seeds or range(num_seeds))]
    if len(seeds) != num_seeds:
        raise AnalysisError(f'{len(seeds)} seed labels for {num_seeds} '
                            'paired runs')
    diffs = method.top1 - base.top1
    t_test = paired_t(diffs, level)
    mcnemar = [
        mcnemar_exact(b, m)
        for b, m in zip(base.final_correct, method.final_correct)
    ]
    alpha = 1 - level
    sd = t_test['sd']
    return PairedComparison(
        names=(base.name, method.name),
        seeds=seeds,
        num_samples=int(base.mean_correct.shape[1]),
        evaluations=(base.evaluations, method.evaluations),
        base_top1=base.top1.tolist(),
        method_top1=method.top1.tolist(),
        diffs=diffs.tolist(),
        mcnemar=mcnemar,
        t_test=t_test,
        bootstrap=bootstrap_ci(base.mean_correct, method.mean_correct, level,
                               num_boot, boot_seed),
        level=level,
        effect=effect,
        power=paired_power(effect, sd, num_seeds, alpha),
        seeds_for_80=seeds_needed(effect, sd, 0.8, alpha),
        detectable_80=detectable_effect(sd, num_seeds, 0.8, alpha))


def seed_rows(result: PairedComparison) -> List[Dict]:
    """Per-seed table rows (points, McNemar on the final evaluations)."""
    base, method = result.names
    rows = []
    for i, seed in enumerate(result.seeds):
        test = result.mcnemar[i]
        rows.append({
            'seed': seed,
            f'{base} top-1': round(result.base_top1[i], 2),
            f'{method} top-1': round(result.method_top1[i], 2),
            'difference': round(result.diffs[i], 2),
            f'only {base} right': test['base_only'],
            f'only {method} right': test['method_only'],
            'McNemar p': round(test['p'], 4),
        })
    return rows


def summary_notes(result: PairedComparison) -> List[str]:
    """Lines under the table: intervals, power and what they mean."""
    t, boot = result.t_test, result.bootstrap
    level = f'{100 * result.level:g}%'
    evals = sorted(set(result.evaluations[0] + result.evaluations[1]))
    scored = ('its final evaluation' if evals == [1] else
              f'the mean of its last {"/".join(map(str, evals))} '
              'evaluations')
    needed = ('more than 10000'
              if result.seeds_for_80 is None else str(result.seeds_for_80))
    verdict = ('the interval includes 0: no difference shown'
               if t['lo'] <= 0 <= t['hi'] else
               f'the interval excludes 0: {result.names[1]} is '
               f'{"better" if t["mean"] > 0 else "worse"}')
    return [
        f'Each run is scored by {scored} on {result.num_samples} test '
        'samples; McNemar uses the final evaluation.',
        f'- paired t over {len(result.diffs)} seeds: mean '
        f'{t["mean"]:+.2f}, SD of differences {t["sd"]:.2f}, {level} CI '
        f'[{t["lo"]:+.2f}, {t["hi"]:+.2f}], p = {t["p"]:.3g} ({verdict})',
        f'- bootstrap over seeds and test samples ({boot["num_boot"]} '
        f'replicates): {level} CI [{boot["lo"]:+.2f}, {boot["hi"]:+.2f}]',
        f'- power to detect {result.effect:+g} points: '
        f'{100 * result.power:.0f}%; 80% power needs {needed} paired seeds; '
        f'{len(result.diffs)} seeds detect {result.detectable_80:.2f} points '
        'at 80% power',
        '',
        result.summary_line(),
    ]
