"""The plain Mesa references (benchmarks/mesa_reference.py) give MentoringModel's statistics.

The benchmark's speed-up figures only mean something if the references compute the
same thing: here each (the tutorial-style ``ReferenceModel`` and the tuned
``TunedReferenceModel``) runs the learning rule and an adoption rule (the default
contact rule, and the share-of-neighbours Bass rule) alone on 300-school graphs, and
their mean curves over 30 replicates each must agree with MentoringModel's; and the
tuned one must give the tutorial one's run number for number at the same seed.
"""

from __future__ import annotations

import sys

import networkx as nx
import numpy as np
import pytest
from scipy import stats
from support import REPO

from mensi_sim import MentoringModel, Scenario, simulate

if str(REPO) not in sys.path:  # plain `pytest` (python -m pytest puts the root on the path)
    sys.path.insert(0, str(REPO))

from benchmarks.mesa_reference import (  # noqa: E402
    ReferenceModel,
    ReferenceParams,
    TunedReferenceModel,
    graph_from_model,
    reference_series,
    tie_graph,
)

VARIANTS = {"tutorial": ReferenceModel, "tuned": TunedReferenceModel}

N, STEPS, REPLICATES, DEGREE = 300, 52, 30, 4
# Faster adoption than the defaults, so that the curve rises over the year and capacity
# matters: p and q per week (bass, theta = 1); contact: a larger exposure per meeting and
# readiness half-way at the mean capacity.
P, Q = 0.005, 0.15
RULES = {
    "bass": {"rule": "bass", "p": P, "q": Q, "theta": 1.0},
    "contact": {"rule": "contact", "p": P, "exposure": 1.0, "readiness_midpoint": 0.4},
}
RATE, STRENGTH = 0.25, 1.0  # peer ties: meetings per term week, strength


def only_learning_and_bass(structure: str, rule: str = "bass", **network) -> Scenario:
    """300 schools, learning and one adoption rule only (engagement fixed at 1, no course,
    no proximity ties, no advanced schools), a random 5 % adopted at the start, 36 term
    weeks of 52; teachers lognormal as by default (staff reach below 1 for big schools)."""
    return Scenario.model_validate(
        {
            "name": f"reference_{structure}",
            "time": {"steps": STEPS, "term_weeks": 36},
            "population": {
                "n_schools": N,
                "countries": ["X"],
                "regions_per_country": 1,
                "advanced_share": 0.0,
            },
            "network": {
                "structure": structure,
                "proximity": False,
                "graph_strength": STRENGTH,
                **network,
            },
            "contacts": {"rate_peer": RATE},
            "engagement": {"enabled": False},
            "adoption": {**RULES[rule], "initial": "share", "initial_share": 0.05},
        }
    )


def mensi_curves(scenario: Scenario) -> np.ndarray:
    """(steps + 1, replicates, 2): adoption share and mean capacity of MentoringModel."""
    ts = simulate(scenario, replications=REPLICATES, seed=2024).timeseries
    return np.stack(
        [
            ts.pivot(index="step", columns="replicate", values=col).to_numpy()
            for col in ("adoption_share", "mean_capacity")
        ],
        axis=2,
    )


def reference_curves(scenario: Scenario, graph_of, variant=ReferenceModel) -> np.ndarray:
    """The same from a Mesa reference; ``graph_of(r)`` is replicate r's simple graph."""
    params = ReferenceParams.from_scenario(scenario)
    runs = []
    for r in range(REPLICATES):
        graph = tie_graph(graph_of(r), kind="peer", strength=STRENGTH, rate=RATE)
        model = variant(graph, params, rng=10_000 + r)
        model.run_for(STEPS)
        runs.append(reference_series(model))
    return np.stack(runs, axis=1)


def assert_same_statistics(a: np.ndarray, b: np.ndarray) -> None:
    """Mean curves of two independent sets of replicates agree within derived tolerances.

    Derivation. For a statistic S (adoption share at week t; mean capacity at week t;
    its change since week 0, which removes the spread of the initial draws; and the
    per-replicate averages over all weeks of adoption and of the capacity change), each
    model gives R = 30 independent replicate values with sample sd s_a, s_b. If both
    models have the same distribution of S, the difference of the two means has mean 0
    and standard error SE = sqrt((s_a^2 + s_b^2) / R), and D / SE follows (Welch) a t
    distribution with at least R - 1 degrees of freedom. We make K = 3 (T + 1) + 2
    comparisons (T = 52 weeks), so with a family-wise false-alarm rate alpha = 0.01
    (Bonferroni) each comparison may differ by at most c * SE with
    c = t_{1 - alpha / (2K), R - 1} (about 4.7). 1e-12 is added for the weeks where
    both are deterministic (the adoption share and the capacity change at week 0).
    """
    R = a.shape[1]
    a_change, b_change = a[:, :, 1] - a[0, :, 1], b[:, :, 1] - b[0, :, 1]
    checks = {
        "adoption share": (a[:, :, 0], b[:, :, 0]),
        "mean capacity": (a[:, :, 1], b[:, :, 1]),
        "capacity change since week 0": (a_change, b_change),
        "adoption share, average over weeks": (
            a[:, :, 0].mean(0, keepdims=True),
            b[:, :, 0].mean(0, keepdims=True),
        ),
        "capacity change, average over weeks": (
            a_change.mean(0, keepdims=True),
            b_change.mean(0, keepdims=True),
        ),
    }
    k = sum(x.shape[0] for x, _ in checks.values())
    c = stats.t.ppf(1 - 0.01 / (2 * k), R - 1)
    for name, (x, y) in checks.items():
        diff = x.mean(axis=1) - y.mean(axis=1)
        se = np.sqrt((x.var(axis=1, ddof=1) + y.var(axis=1, ddof=1)) / R)
        worst = int(np.argmax(np.abs(diff) - c * se))
        assert np.all(np.abs(diff) <= c * se + 1e-12), (
            f"{name}: week {worst}: mensi_sim {x.mean(axis=1)[worst]:.5f} vs Mesa "
            f"{y.mean(axis=1)[worst]:.5f}, difference {diff[worst]:.5f} > {c:.2f} x SE "
            f"{se[worst]:.5f}"
        )
    # the test has something to detect: adoption rises several-fold, and by the end of
    # term learning has moved mean capacity by far more than the tolerance
    assert a[-1, :, 0].mean() > 3 * a[0, :, 0].mean()
    assert a_change[36].mean() > 5 * c * np.sqrt(2 * a_change[36].var(ddof=1) / R)


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("rule", ["contact", "bass"])
def test_same_statistics_on_a_ring_lattice(rule, variant):
    scenario = only_learning_and_bass("ring_lattice", rule, graph_degree=DEGREE)
    ring = nx.circulant_graph(N, range(1, DEGREE // 2 + 1))
    assert_same_statistics(
        mensi_curves(scenario), reference_curves(scenario, lambda r: ring, VARIANTS[variant])
    )


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("rule", ["contact", "bass"])
def test_same_statistics_on_an_erdos_renyi_graph(rule, variant):
    p = DEGREE / (N - 1)
    scenario = only_learning_and_bass("erdos_renyi", rule, graph_p=p)
    assert_same_statistics(
        mensi_curves(scenario),
        reference_curves(
            scenario, lambda r: nx.fast_gnp_random_graph(N, p, seed=500 + r), VARIANTS[variant]
        ),
    )


@pytest.mark.parametrize("synchronous", [True, False])
@pytest.mark.parametrize("rule", ["contact", "bass"])
def test_tuned_reference_is_the_tutorial_run_number_for_number(rule, synchronous):
    # the same draws in the same order: listing the ties once changes only the speed
    scenario = only_learning_and_bass("erdos_renyi", rule, graph_p=DEGREE / (N - 1))
    params = ReferenceParams.from_scenario(scenario)
    graph = tie_graph(nx.fast_gnp_random_graph(N, DEGREE / (N - 1), seed=3), rate=RATE)
    runs = {}
    for name, variant in VARIANTS.items():
        model = variant(graph, params, rng=7, synchronous=synchronous)
        model.run_for(STEPS)
        runs[name] = reference_series(model)
        runs[name + " capacities"] = np.array([a.capacity for a in model.agents])
    np.testing.assert_array_equal(runs["tuned"], runs["tutorial"])
    np.testing.assert_array_equal(runs["tuned capacities"], runs["tutorial capacities"])
    assert runs["tutorial"][-1, 0] > runs["tutorial"][0, 0]  # something happened


def test_tuned_reference_runs_on_the_benchmark_network():
    # the benchmark's network: a policy structure (mentoring, peer ties) with proximity
    scenario = Scenario.model_validate(
        {
            "population": {"n_schools": 120, "advanced_share": 0.0},
            "network": {"structure": "top_down", "proximity": True},
            "engagement": {"enabled": False},
            "adoption": {"initial": "share"},
        }
    )
    graph = graph_from_model(MentoringModel(scenario, rng=1))
    params = ReferenceParams.from_scenario(scenario)
    a, b = ReferenceModel(graph, params, rng=4), TunedReferenceModel(graph, params, rng=4)
    a.run_for(20)
    b.run_for(20)
    np.testing.assert_array_equal(reference_series(a), reference_series(b))


def test_reference_is_seeded_and_builds_no_spring_layout(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the reference must not compute a spring layout")

    monkeypatch.setattr(nx, "spring_layout", refuse)
    scenario = only_learning_and_bass("ring_lattice", graph_degree=DEGREE)
    params = ReferenceParams.from_scenario(scenario)
    graph = tie_graph(nx.circulant_graph(60, [1, 2]), rate=RATE)
    runs = []
    for _ in range(2):
        model = ReferenceModel(graph, params, rng=3)
        model.run_for(10)
        runs.append(reference_series(model))
    np.testing.assert_array_equal(runs[0], runs[1])
    assert all(cell._position is None for cell in model.grid.all_cells)  # topological only


def test_asynchronous_variant_runs_and_keeps_capacity_in_range():
    scenario = only_learning_and_bass("ring_lattice", graph_degree=DEGREE)
    params = ReferenceParams.from_scenario(scenario)
    model = ReferenceModel(
        tie_graph(nx.circulant_graph(60, [1, 2]), rate=RATE), params, rng=5, synchronous=False
    )
    model.run_for(20)
    capacity = [a.capacity for a in model.agents]
    assert min(capacity) >= 0.0 and max(capacity) <= 1.0
    assert reference_series(model).shape == (21, 2)


def test_graph_from_model_carries_ties_and_start():
    scenario = Scenario.model_validate(
        {
            "population": {"n_schools": 120, "advanced_share": 0.0},
            "network": {"structure": "top_down", "proximity": True},
            "engagement": {"enabled": False},
            "adoption": {"initial": "share"},
        }
    )
    model = MentoringModel(scenario, rng=1)
    graph = graph_from_model(model)
    assert graph.number_of_nodes() == 120
    assert graph.number_of_edges() == model.tie_src.size
    mentoring = [t for _, _, t in graph.edges(data=True) if t["kind"] == "mentoring"]
    assert len(mentoring) == 96 and all(model.state.role[t["src"]] == 1 for t in mentoring)
    ref = ReferenceModel(graph, ReferenceParams.from_scenario(scenario), rng=1)
    assert reference_series(ref)[0, 0] == pytest.approx(model.state.adopted.mean())
    assert reference_series(ref)[0, 1] == pytest.approx(model.state.capacity.mean())
    loads = {a.node: a.load for a in ref.agents if a.load}
    assert sorted(loads.values()) == [4.0] * 24


def test_from_scenario_names_the_rules_the_reference_lacks():
    with pytest.raises(ValueError, match="engagement.enabled.*training.courses"):
        ReferenceParams.from_scenario(
            Scenario.model_validate(
                {
                    "training": {"courses": [{"name": "c"}]},
                }
            )
        )
