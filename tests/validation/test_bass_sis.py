"""Reductions of rule 4: the Bass map and the SIS endemic level on a complete graph.

Tolerances come from the replications: the mean of R independent replicates has
standard error s / sqrt(R), s the sample sd across replicates at that step, and
(mean - expected) / (s / sqrt(R)) is Student-t with R - 1 degrees of freedom when the
expectation is met. We allow the t quantile of a two-sided false-alarm probability of
1e-4 per check (``reduction.mean_tolerance``; under 0.3 % over the Bass map's 25
steps), plus the model's finite-size bias relative to the mean-field map, 2 / n: two
O(1/n) terms, each below q / n < 1 / n. A non-adopter's neighbours are the n - 1 others
(m = A / (n - 1), not A / n), and the map is the expectation of a nonlinear update (the
share's variance, at most 1 / (4 n), times q).
"""

import numpy as np

from mensi_sim import simulate

from .reduction import bass_map, mean_tolerance, pure_diffusion, sis_level

N = 2000
FINITE_SIZE = 2.0 / N


def test_complete_graph_follows_the_discrete_bass_map():
    p, q, steps, reps = 0.03, 0.38, 25, 30
    sc = pure_diffusion(N, steps, p=p, q=q)
    ts = simulate(sc, replications=reps, seed=11).timeseries
    by_step = ts.groupby("step")["adoption_share"]
    mean = by_step.mean().to_numpy()
    expected = bass_map(p, q, steps)
    tolerance = by_step.agg(mean_tolerance).to_numpy() + FINITE_SIZE
    worst = int(np.argmax(np.abs(mean - expected) / tolerance))
    print(
        f"VALIDATION Bass map: worst step {worst}: expected {expected[worst]:.4f} "
        f"measured {mean[worst]:.4f} tolerance {tolerance[worst]:.4f}"
    )
    assert np.all(np.abs(mean - expected) <= tolerance), np.c_[mean, expected, tolerance]
    # and it is a real S-curve, not a trivially flat one
    assert expected[10] > 0.5 and mean[10] > 0.5 and mean[2] < 0.2


def test_sis_long_run_share_matches_mean_field_level():
    # abandonment r (1 - c) with every capacity 0.5 (sd 1e-4): recovery delta = r / 2
    p, q, r = 0.0, 0.4, 0.3
    delta = r * 0.5
    steps, burn_in, reps = 160, 60, 10
    sc = pure_diffusion(
        N,
        steps,
        p=p,
        q=q,
        abandonment=r,
        initial="share",
        initial_share=0.1,
        population={"capacity_mean_other": 0.5, "capacity_sd": 1e-4},
    )
    ts = simulate(sc, replications=reps, seed=5).timeseries
    late = ts[ts["step"] >= burn_in]
    per_rep = late.groupby("replicate")["adoption_share"].mean().to_numpy()
    expected = sis_level(p, q, delta)  # 1 - delta / q = 0.625
    # replicate means are independent: the t bound, plus the O(1/n) finite-size bias
    tolerance = mean_tolerance(per_rep) + FINITE_SIZE
    print(
        f"VALIDATION SIS level: expected {expected:.4f} measured {per_rep.mean():.4f} "
        f"tolerance {tolerance:.4f}"
    )
    assert abs(per_rep.mean() - expected) <= tolerance, (per_rep.mean(), expected, tolerance)
    assert 0.55 < expected < 0.7


def test_sis_level_formula_limits():
    assert sis_level(0.0, 0.4, 0.5) == 0.0  # below threshold: dies out
    assert abs(sis_level(0.0, 0.4, 0.1) - 0.75) < 1e-12
    i = sis_level(0.05, 0.3, 0.2)
    assert abs((1 - i) * (0.05 + 0.3 * i) - 0.2 * i) < 1e-12
