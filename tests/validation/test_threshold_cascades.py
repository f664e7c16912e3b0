"""Threshold cascades on Erdos-Renyi graphs against the tree-like theory.

Rule 4 with ``rule = "threshold"`` alone (``pure_diffusion``): a school adopts once the
share of its neighbours that have adopted reaches phi (Watts 2002, PNAS 99, 5766). On
G(n, p) with a random seed share rho0, the expected final adopting share of a large,
locally tree-like network is the fixed point of Gleeson & Cahalane (2007, Phys. Rev. E
75, 056103), ``reduction.cascade_size``. With phi = 0.18 the global cascade happens only
inside a window of mean degrees z (Watts: about 1 < z < 6 for one seed; the seeds widen
it a little, to z < 8 at rho0 = 0.005); outside it the adopters are little more than the
seeds and the schools next to them.

Tolerance: the mean of R independent replicates is within ``mean_tolerance`` (the
t-interval with two-sided false-alarm probability 1e-4 from the replicates' sample sd)
of the theory, plus a finite-size allowance FINITE_N for n = 10,000 schools: the theory
is exact as n -> infinity (no short cycles); over 40 replicates per mean degree the
simulator was within 3e-4 of it, so 2e-3 (20 schools) is a generous bound.
"""

import numpy as np
import pytest

from mensi_sim import simulate

from .reduction import binomial_degrees, cascade_size, mean_tolerance, pure_diffusion

N = 10_000
PHI = 0.18  # Watts 2002, Fig. 1
RHO0 = 0.005  # 50 random seed schools
STEPS = 50  # cascades here end within 20 steps; the test checks they have ended
REPS = 10
FINITE_N = 2e-3

# mean degree z -> inside the cascade window?
CASES = {0.5: False, 2.0: True, 4.0: True, 10.0: False}


@pytest.mark.parametrize("z", list(CASES), ids=lambda z: f"z={z}")
def test_erdos_renyi_cascade_size_matches_gleeson_cahalane(z):
    p = z / (N - 1)
    sc = pure_diffusion(
        N,
        STEPS,
        structure="erdos_renyi",
        rule="threshold",
        threshold=PHI,
        initial="share",
        initial_share=RHO0,
        network={"graph_p": p},
    )
    ts = simulate(sc, replications=REPS, seed=2002).timeseries
    share = ts.pivot(index="replicate", columns="step", values="adoption_share").to_numpy()
    # the threshold rule is deterministic and monotone: a step without change is final
    assert np.all(share[:, -1] == share[:, -10]), "cascades still running at the end"
    final = share[:, -1]
    expected = cascade_size(binomial_degrees(N, p), PHI, RHO0)
    tolerance = mean_tolerance(final) + FINITE_N  # t-interval (alpha 1e-4) + finite size
    print(
        f"VALIDATION cascade z={z}: expected {expected:.4f} measured {final.mean():.4f} "
        f"tolerance {tolerance:.4f}"
    )
    assert abs(final.mean() - expected) <= tolerance, (z, final.mean(), expected, tolerance)
    if CASES[z]:
        assert expected > 0.75 and final.min() > 0.75  # a global cascade in every replicate
    else:
        assert expected < 0.02 and final.max() < 0.03  # the seeds and a few neighbours


def test_cascade_size_formula_limits():
    # no ties: only the seeds
    assert cascade_size(np.array([1.0]), PHI, 0.01) == pytest.approx(0.01)
    # phi = 0 with at least one adopting neighbour: everything connected to a seed adopts;
    # on a 3-regular tree-like graph with rho0 -> 0 that is all of the giant component
    pk = np.zeros(4)
    pk[3] = 1.0
    assert cascade_size(pk, 0.0, 1e-6) == pytest.approx(1.0, abs=1e-4)
    # phi > 1: nobody but the seeds
    assert cascade_size(binomial_degrees(1000, 0.004), 1.01, 0.02) == pytest.approx(0.02)
    # the window: a global cascade at z = 4, none at z = 10 (phi = 0.18)
    inside = cascade_size(binomial_degrees(N, 4 / (N - 1)), PHI, RHO0)
    outside = cascade_size(binomial_degrees(N, 10 / (N - 1)), PHI, RHO0)
    assert inside > 0.95 and outside < 0.01
