"""Paired comparison of two arms over seeds (mmcsre.analysis.paired) and its
command line, tools/analysis/compare_runs.py, against hand-computed
statistics."""
import json
import math

import numpy as np
import pytest
from analysis_helpers import make_dump

from mmcsre.analysis import (AnalysisError, ArmScores, bootstrap_ci,
                             compare_arms, detectable_effect, load_arms,
                             mcnemar_exact, paired_power, paired_t,
                             seeds_needed)

T_975_DF2 = 4.302652729911275  # Student t, 97.5 % quantile, 2 df


def test_paired_t_matches_hand_computation():
    out = paired_t(np.array([1.0, 2.0, 3.0]))
    # mean 2, SD 1, SE 1/sqrt(3), half width t(0.975, 2) * SE
    half = T_975_DF2 / math.sqrt(3)
    assert out['mean'] == pytest.approx(2.0)
    assert out['sd'] == pytest.approx(1.0)
    assert out['lo'] == pytest.approx(2.0 - half)
    assert out['hi'] == pytest.approx(2.0 + half)
    assert out['t'] == pytest.approx(2.0 * math.sqrt(3))
    assert 0.05 < out['p'] < 0.1  # t = 3.46 on 2 df: p = 0.074


def test_paired_t_zero_spread():
    out = paired_t(np.array([0.5, 0.5]))
    assert out['lo'] == out['hi'] == pytest.approx(0.5)
    assert out['p'] == 0.0


def test_mcnemar_counts_and_exact_p():
    base = np.array([1, 1, 1, 1, 1, 0, 1, 0], bool)
    method = np.array([0, 0, 0, 0, 0, 1, 1, 0], bool)
    out = mcnemar_exact(base, method)
    assert (out['base_only'], out['method_only']) == (5, 1)
    # two-sided exact binomial: 2 * P(X <= 1 | n=6, 1/2) = 2 * 7 / 64
    assert out['p'] == pytest.approx(14 / 64)
    assert mcnemar_exact(base, base)['p'] == 1.0
    assert mcnemar_exact([1, 0], [0, 1])['p'] == 1.0


def test_bootstrap_degenerate_and_covering():
    ones, zeros = np.ones((3, 20)), np.zeros((3, 20))
    out = bootstrap_ci(zeros, ones, num_boot=200)
    assert out['lo'] == out['hi'] == pytest.approx(100.0)
    rng = np.random.default_rng(1)
    base = (rng.random((6, 200)) < 0.7).astype(float)
    method = (rng.random((6, 200)) < 0.75).astype(float)
    mean = 100 * (method - base).mean()
    out = bootstrap_ci(base, method, num_boot=2000, seed=3)
    assert out['lo'] < mean < out['hi']
    assert out == bootstrap_ci(base, method, num_boot=2000, seed=3)


def test_power_is_monotone_and_matches_textbook_sample_size():
    powers = [paired_power(1.0, 1.5, n) for n in (2, 4, 8, 16, 32)]
    assert all(a < b for a, b in zip(powers, powers[1:]))
    # paired t, effect = 1 SD, alpha 0.05, power 0.8: 10 pairs (G*Power)
    assert seeds_needed(1.0, 1.0) == 10
    assert paired_power(1.0, 1.0, 10) >= 0.8 > paired_power(1.0, 1.0, 9)
    effect = detectable_effect(1.5, 6)
    assert paired_power(effect, 1.5, 6) == pytest.approx(0.8, abs=1e-6)
    assert paired_power(0.0, 1.0, 6) == pytest.approx(0.05, abs=1e-6)


def arm(name, rows):
    rows = np.asarray(rows, float)
    return ArmScores(name, rows, rows > 0.5, [1] * len(rows))


def test_compare_arms_differences_and_summary_line():
    base = arm('base', [[1, 1, 0, 0], [1, 0, 0, 0], [1, 1, 1, 0]])
    method = arm('csre', [[1, 1, 1, 0], [1, 1, 1, 0], [1, 1, 1, 0]])
    out = compare_arms(base, method, num_boot=500)
    assert out.diffs == pytest.approx([25.0, 50.0, 0.0])
    assert out.base_top1 == pytest.approx([50.0, 25.0, 75.0])
    assert [m['method_only'] for m in out.mcnemar] == [1, 2, 0]
    sd = np.std([25.0, 50.0, 0.0], ddof=1)
    half = T_975_DF2 * sd / math.sqrt(3)
    assert out.t_test['lo'] == pytest.approx(25.0 - half)
    assert out.summary_line() == (
        f'mean difference +25.00 points, 95% CI [{25 - half:+.2f}, '
        f'{25 + half:+.2f}] (3 seeds)')
    with pytest.raises(AnalysisError, match='seed labels'):
        compare_arms(base, method, seeds=['0', '1'])


def test_load_arms_scores_runs_by_the_mean_of_their_dumps(write_dump):
    labels = [0, 1, 0, 1]
    a = write_dump('a', make_dump(labels, [0, 1, 1, 0]))  # 50 %
    b = write_dump('b', make_dump(labels, [0, 1, 0, 0]))  # 75 %
    c = write_dump('c', make_dump(labels, [0, 1, 0, 1]))  # 100 %
    base, method, ids = load_arms([a, b], [f'{b},{c}', c], ('base', 'm'))
    assert ids == ['s000', 's001', 's002', 's003']
    assert base.top1 == pytest.approx([50.0, 75.0])
    assert method.top1 == pytest.approx([87.5, 100.0])
    assert method.evaluations == [2, 1]
    assert method.final_correct[0].tolist() == [True] * 4


def test_load_arms_matches_samples_by_id(write_dump):
    labels = [0, 1, 2]
    a = write_dump('a', make_dump(labels, [0, 1, 0]))
    shuffled = make_dump([2, 0, 1], [2, 0, 1], ids=['s002', 's000', 's001'])
    b = write_dump('b', shuffled)
    base, method, _ = load_arms([a, a], [b, b], ('base', 'm'))
    assert method.mean_correct[0].tolist() == [1, 1, 1]
    assert base.mean_correct[0].tolist() == [1, 1, 0]


def test_load_arms_errors(write_dump):
    a = write_dump('a', make_dump([0, 1], [0, 1]))
    other = write_dump('o', make_dump([0, 1], [0, 1], ids=['x', 'y']))
    with pytest.raises(AnalysisError, match='2 base runs but 1 m runs'):
        load_arms([a, a], [a], ('base', 'm'))
    with pytest.raises(AnalysisError, match='at least 2 seeds'):
        load_arms([a], [a], ('base', 'm'))
    with pytest.raises(AnalysisError):
        load_arms([a, a], [a, other], ('base', 'm'))


def test_compare_runs_cli(write_dump, tool, tmp_path, capsys):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 5, 60)
    base, method = [], []
    for seed in range(3):
        right = rng.random(60) < 0.6
        better = right | (rng.random(60) < 0.2)
        for arm_name, ok, items in (('b', right, base), ('m', better, method)):
            preds = np.where(ok, labels, (labels + 1) % 5)
            items.append(
                write_dump(f'{arm_name}{seed}', make_dump(labels, preds, 5)))
    out = tmp_path / 'cmp'
    tool('compare_runs').main([
        '--baseline', *base, '--method', *method, '--names', 'base', 'csre',
        '--out',
        str(out), '--bootstrap', '300'
    ])
    printed = capsys.readouterr().out.strip().splitlines()
    assert printed[-1].startswith('mean difference +')
    assert printed[-1].endswith('(3 seeds)')
    for name in ('compare.md', 'compare.csv', 'compare.json', 'compare.png'):
        assert (out / name).is_file()
    result = json.loads((out / 'compare.json').read_text())
    assert result['names'] == ['base', 'csre']
    assert len(result['diffs']) == 3 and min(result['diffs']) >= 0
    assert 'csre top-1' in (out / 'compare.md').read_text()


def test_compare_runs_cli_rejects_unequal_counts(write_dump, tool, tmp_path,
                                                 capsys):
    a = write_dump('a', make_dump([0, 1], [0, 1]))
    with pytest.raises(SystemExit) as exit_:
        tool('compare_runs').run(
            tool('compare_runs').main,
            ['--baseline', a, a, '--method', a, '--out',
             str(tmp_path / 'x')])
    assert exit_.value.code == 2
    assert 'paired by position' in capsys.readouterr().err
