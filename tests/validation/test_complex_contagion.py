"""Complex contagion on a ring lattice and on its randomly rewired version.

Rule 4 with ``rule = "threshold"``, phi = 0 and ``min_adopting_neighbours = a``: a school
adopts once a of its neighbours have (a = 1: simple contagion; a = 2: complex contagion,
Centola & Macy 2007, AJS 113, 702). On a ring lattice of degree z seeded with s adjacent
adopters the spread is deterministic, and ``reduction.ring_spreading_time`` gives the
exact number of steps to full adoption,

    T = max(1, ceil((n - s - (a - 1)) / (2 (z / 2 - a + 1)))),

which the simulator must hit exactly (no tolerance: nothing is random). Rewiring a share
of the ties at random (watts_strogatz, graph_p) creates shortcuts: they speed simple
contagion (a new front starts at the far end of a shortcut) but slow or block complex
contagion (a school at the end of a shortcut has one adopting neighbour, not two, and
the rewired lattice has fewer neighbours shared between adjacent schools).
Tolerances of the rewired comparisons: the t-interval of the replicate mean with
two-sided false-alarm probability 1e-4 (``mean_tolerance``).
"""

import numpy as np
import pytest

from mensi_sim import MentoringModel, simulate

from .reduction import mean_tolerance, pure_diffusion, ring_adopters_after, ring_spreading_time

N = 200
REPS = 20


def ring(n: int, degree: int, seeds: int, a: int, steps: int, rewire: float | None = None):
    structure = "ring_lattice" if rewire is None else "watts_strogatz"
    network = {"graph_degree": degree, **({} if rewire is None else {"graph_p": rewire})}
    return pure_diffusion(
        n,
        steps,
        structure=structure,
        rule="threshold",
        threshold=0.0,
        min_adopting_neighbours=a,
        initial="ids",
        initial_ids=list(range(seeds)),
        network=network,
    )


def adopters_by_step(sc, steps: int) -> np.ndarray:
    model = MentoringModel(sc, rng=0)
    counts = [int(model.state.adopted.sum())]
    for _ in range(steps):
        model.step()
        counts.append(int(model.state.adopted.sum()))
    return np.array(counts)


@pytest.mark.parametrize(
    ("n", "degree", "seeds", "a"),
    [
        (200, 4, 2, 2),  # the Centola-Macy case: z = 4, two adjacent seeds, threshold 2
        (201, 4, 2, 2),  # n - s odd: the last step fills a gap of 3 (see ring_spreading_time)
        (200, 4, 2, 1),  # simple contagion on the same lattice
        (101, 6, 2, 2),
        (100, 8, 3, 3),
        (57, 8, 2, 2),
        (60, 10, 4, 1),
    ],
)
def test_ring_lattice_spreading_time_is_exact(n, degree, seeds, a):
    expected = ring_spreading_time(n, degree, seeds, a)
    counts = adopters_by_step(ring(n, degree, seeds, a, expected + 2), expected + 2)
    measured = int(np.argmax(counts == n))
    print(
        f"VALIDATION ring n={n} z={degree} s={seeds} a={a}: expected {expected} measured {measured}"
    )
    assert counts[-1] == n and measured == expected  # exact: the rule is deterministic
    # and the front moves at its constant speed until the last step
    steps = np.arange(expected + 3)
    assert np.array_equal(counts, [ring_adopters_after(n, degree, seeds, a, t) for t in steps])


def test_issue_formula_is_off_by_one_for_odd_gaps():
    # ceil((n - s) / (2 v)) from the issue text: right for even n - s, one step late for odd
    assert ring_spreading_time(200, 4, 2, 2) == -(-(200 - 2) // 2) == 99
    assert ring_spreading_time(201, 4, 2, 2) == 99 != -(-(201 - 2) // 2)


def test_rewiring_slows_complex_contagion_and_speeds_simple_contagion():
    degree, seeds, rewire = 4, 2, 0.1
    t_complex = ring_spreading_time(N, degree, seeds, 2)  # 99 weeks on the lattice
    t_simple = ring_spreading_time(N, degree, seeds, 1)  # 50 weeks
    steps = t_complex
    # complex contagion: on the lattice everyone has adopted by week 99 ...
    lattice = simulate(ring(N, degree, seeds, 2, steps), replications=1).summary
    assert lattice["final_adoption_share"].iloc[0] == 1.0
    # ... on the rewired lattice the share at week 99 is far lower (the spread is blocked)
    rewired = simulate(ring(N, degree, seeds, 2, steps, rewire), replications=REPS, seed=7).summary
    share = rewired["final_adoption_share"].to_numpy()
    tol = mean_tolerance(share)
    print(
        f"VALIDATION complex contagion, rewired p={rewire}: share at week {steps} "
        f"{share.mean():.3f} +- {tol:.3f} (lattice 1.0)"
    )
    assert share.mean() + tol < 1.0
    assert share.mean() + tol < 0.5  # not merely slower: blocked in most replicates
    # simple contagion: 50% on the lattice takes ceil((n/2 - s) / 4) = 25 weeks exactly ...
    half_lattice = -(-(N // 2 - seeds) // (2 * (degree // 2)))
    lattice = simulate(ring(N, degree, seeds, 1, t_simple), replications=1).summary
    assert lattice["weeks_to_half_adoption"].iloc[0] == half_lattice
    # ... and far fewer on the rewired one (shortcuts start new fronts)
    rewired = simulate(
        ring(N, degree, seeds, 1, t_simple, rewire), replications=REPS, seed=7
    ).summary
    assert rewired["half_adoption_reached"].all()
    weeks = rewired["weeks_to_half_adoption"].to_numpy()
    tol = mean_tolerance(weeks)
    print(
        f"VALIDATION simple contagion, rewired p={rewire}: weeks to 50% "
        f"{weeks.mean():.2f} +- {tol:.2f} (lattice {half_lattice})"
    )
    assert weeks.mean() + tol < half_lattice


def test_spreading_time_formula_on_many_lattices():
    # every threshold a <= z/2 on lattices of degree 4 to 10, s = a .. a+2 adjacent seeds and
    # several sizes, odd and even: the simulator hits the formula exactly every time
    checked = 0
    for degree in (4, 6, 8, 10):
        for a in range(1, degree // 2 + 1):
            for seeds in range(a, a + 3):
                for n in sorted({degree + seeds + 1, 40, 41, 57, 100, 101}):
                    expected = ring_spreading_time(n, degree, seeds, a)
                    counts = adopters_by_step(ring(n, degree, seeds, a, expected), expected)
                    assert counts[-1] == n and counts[-2] < n, (n, degree, seeds, a)
                    checked += 1
    assert checked == 252
