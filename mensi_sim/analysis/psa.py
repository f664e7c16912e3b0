"""Probabilistic sensitivity analysis: net benefit, acceptability, and the value of information.

A PSA runs every option on the same parameter draws (``experiments.uncertainty``), with
the same random numbers within a draw. Per (option, draw) the cost C and effect E
(additional adopting schools are differences of ``adopters_final``) are the means over the
draw's replicates. At a willingness to pay ``wtp`` (EUR per additional adopting school):

- net monetary benefit ``NB = wtp * E - C``; the incremental net benefit of an option
  against the baseline, ``INB = NB - NB_baseline``, paired by draw;
- the probability an option is best: the share of draws in which its NB is the largest;
  the cost-effectiveness acceptability curve (CEAC) is that probability as a function of
  ``wtp``; the acceptability frontier is, at each ``wtp``, the option with the largest
  *expected* NB (the one to choose), with its probability of being best;
- the probability an option is on the cost-effectiveness frontier: the share of draws in
  which the frontier (``cost_effectiveness.frontier``) of that draw holds it;
- EVPI, the expected value of perfect information: ``E[max_k NB_k] - max_k E[NB_k]``;
- EVPPI per parameter group (partial information), by Strong & Oakley's regression
  estimator (Strong, Oakley & Brennan 2014, Med Decis Making 34(3)): regress each option's
  INB on the group's parameters, ``g_k = E[INB_k | group]``, then
  ``EVPPI = E[max_k g_k] - max_k E[g_k]``. The smoother (``smooth_fit``) is scikit-learn's
  ``SplineTransformer`` (cubic B-splines per parameter) plus pairwise products of the
  standardised parameters, fitted by ``RidgeCV`` (penalty chosen by generalised cross
  validation): a penalised additive model, like the GAMs of Strong & Oakley.

EVPI over the draws includes the replicate noise of each draw's means (an optimistic
value: noise looks like information); the EVPPI of all parameters together (the group
``all``) is its noise-free counterpart. Both are in EUR per run of the scenario (the
programme as simulated); divided by ``wtp`` they read as adopting schools.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from mensi_sim.analysis.cost_effectiveness import (
    DEFAULT_PERSPECTIVE,
    EFFECT,
    cost_column,
    frontier,
)
from mensi_sim.analysis.verdicts import VERDICT_PROBABILITY, firmness

ALL_GROUP = "all"


def psa_frame(
    summary: pd.DataFrame,
    design: pd.DataFrame,
    *,
    perspective: str = DEFAULT_PERSPECTIVE,
    cost: str | None = None,
    effect: str = EFFECT,
    outcomes: Sequence[str] = (),
) -> pd.DataFrame:
    """Per (option, draw): the mean cost and effect over the draw's replicates.

    Args:
        summary: The sweep's summary (one row per scenario x replicate).
        design: One row per PSA point: ``scenario`` (point name), ``option``, ``draw``.
        outcomes: Further outcomes to average the same way.

    Returns:
        Columns ``option``, ``draw``, ``cost``, ``effect``, ``replicates``, then the
        ``outcomes``; options in design order, draws ascending.
    """
    cost = cost if cost is not None else cost_column(perspective)
    cols = list(dict.fromkeys([cost, effect, *outcomes]))
    merged = summary[["scenario", *cols]].merge(
        design[["scenario", "option", "draw"]], on="scenario"
    )
    grouped = merged.groupby(["option", "draw"], sort=False)
    frame = grouped[cols].mean().reset_index()
    frame["replicates"] = grouped.size().to_numpy()
    frame["cost"] = frame[cost]
    frame["effect"] = frame[effect]
    order = {o: i for i, o in enumerate(dict.fromkeys(design["option"]))}
    frame["_o"] = frame["option"].map(order)
    frame = frame.sort_values(["_o", "draw"], kind="mergesort").drop(columns="_o")
    keep = ["option", "draw", "cost", "effect", "replicates"]
    keep += [c for c in outcomes if c not in keep]
    return frame[keep].reset_index(drop=True)


def _wide(frame: pd.DataFrame, column: str) -> tuple[np.ndarray, list[str], np.ndarray]:
    """(draws, options) matrix of a column on the draws every option has."""
    wide = frame.pivot(index="draw", columns="option", values=column)
    options = list(dict.fromkeys(frame["option"]))
    wide = wide.reindex(columns=options).dropna()
    return wide.to_numpy(float), options, wide.index.to_numpy()


def net_benefit(frame: pd.DataFrame, wtp: float) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Net monetary benefit ``wtp * effect - cost``: a (draws, options) matrix, the options,
    and the draws."""
    c, options, draws = _wide(frame, "cost")
    e, _, _ = _wide(frame, "effect")
    return wtp * e - c, options, draws


def _best_share(nb: np.ndarray) -> np.ndarray:
    """Per option, the share of rows (draws) in which it has the largest value (ties split)."""
    top = nb == nb.max(axis=1, keepdims=True)
    return (top / top.sum(axis=1, keepdims=True)).mean(axis=0)


def frontier_shares(frame: pd.DataFrame) -> pd.Series:
    """Per option, the share of draws in which it is on that draw's cost-effectiveness
    frontier (no strong or extended dominance)."""
    c, options, _ = _wide(frame, "cost")
    e, _, _ = _wide(frame, "effect")
    on = np.zeros(len(options))
    for d in range(c.shape[0]):
        st = frontier(dict(zip(options, c[d], strict=True)), dict(zip(options, e[d], strict=True)))
        on += [st[o] == "frontier" for o in options]
    return pd.Series(on / max(c.shape[0], 1), index=options)


def psa_summary(frame: pd.DataFrame, baseline: str, wtp: float) -> pd.DataFrame:
    """Per option, over the draws: expected cost and effect, their differences from the
    baseline (paired by draw), the share of draws with more adopting schools than the
    baseline (``p_effect_positive``), INB at ``wtp`` with its 95% interval over draws (2.5
    and 97.5 percentiles: parameter uncertainty, not a CI of a mean), P(INB > 0), P(best),
    P(on the frontier), and the frontier of the expected values with its ICERs.

    Returns:
        One row per option, ordered by expected cost; ``verdict`` is ``"best"`` (firm: P(best)
        >= VERDICT_PROBABILITY), ``"probably best"`` (the option with the largest expected NB
        below that), or ``""``.
    """
    c, options, _ = _wide(frame, "cost")
    e, _, _ = _wide(frame, "effect")
    if baseline not in options:
        raise KeyError(f"baseline {baseline!r} is not an option ({', '.join(options)})")
    b = options.index(baseline)
    nb = wtp * e - c
    inb = nb - nb[:, [b]]
    p_best = _best_share(nb)
    p_front = frontier_shares(frame)
    mean_c, mean_e = c.mean(0), e.mean(0)
    status = frontier(
        dict(zip(options, mean_c, strict=True)), dict(zip(options, mean_e, strict=True))
    )
    best = int(np.argmax(nb.mean(0)))
    rows = []
    for k, o in enumerate(options):
        dc, de = c[:, k] - c[:, b], e[:, k] - e[:, b]
        rows.append(
            {
                "option": o,
                "baseline": baseline,
                "draws": int(c.shape[0]),
                "wtp": float(wtp),
                "mean_cost": float(mean_c[k]),
                "mean_effect": float(mean_e[k]),
                "delta_cost": float(dc.mean()),
                "delta_effect": float(de.mean()),
                "delta_effect_low": float(np.percentile(de, 2.5)),
                "delta_effect_high": float(np.percentile(de, 97.5)),
                "p_effect_positive": float((de > 0).mean()) if k != b else math.nan,
                "icer": float(dc.mean() / de.mean()) if de.mean() else math.nan,
                "inb": float(inb[:, k].mean()),
                "inb_low": float(np.percentile(inb[:, k], 2.5)),
                "inb_high": float(np.percentile(inb[:, k], 97.5)),
                "p_inb_positive": float((inb[:, k] > 0).mean()) if k != b else math.nan,
                "p_best": float(p_best[k]),
                "p_frontier": float(p_front[o]),
                "frontier": status[o],
                "verdict": (
                    ("best" if p_best[k] >= VERDICT_PROBABILITY else "probably best")
                    if k == best
                    else ""
                ),
            }
        )
    table = pd.DataFrame(rows).sort_values(
        ["mean_cost", "mean_effect"], ascending=[True, False], kind="mergesort"
    )
    on = table["frontier"] == "frontier"
    step = (table.loc[on, "mean_cost"].diff() / table.loc[on, "mean_effect"].diff()).astype(float)
    table["frontier_icer"] = np.nan
    table.loc[on, "frontier_icer"] = step.to_numpy()
    return table.reset_index(drop=True)


def wtp_grid(wtp: float, wtp_max: float | None = None, n: int = 41) -> np.ndarray:
    """Willingness-to-pay values of the CEACs: 0 to ``wtp_max`` (default 5 x ``wtp``) with
    ``wtp`` itself included."""
    top = wtp_max if wtp_max is not None else max(5 * wtp, 1.0)
    return np.unique(np.append(np.linspace(0.0, top, n), wtp))


def ceac(frame: pd.DataFrame, wtps: Sequence[float]) -> pd.DataFrame:
    """Cost-effectiveness acceptability curves, the acceptability frontier and EVPI.

    Returns:
        One row per (wtp, option): ``p_best`` (share of draws in which the option has the
        largest NB), ``expected_nb``, ``on_frontier`` (it has the largest expected NB: the
        acceptability frontier), ``evpi`` (of that wtp, the same on each of its rows).
    """
    rows = []
    for w in wtps:
        nb, options, _ = net_benefit(frame, float(w))
        p = _best_share(nb)
        expected = nb.mean(0)
        choice = int(np.argmax(expected))
        value = float(nb.max(axis=1).mean() - expected.max())
        for k, o in enumerate(options):
            rows.append(
                {
                    "wtp": float(w),
                    "option": o,
                    "p_best": float(p[k]),
                    "expected_nb": float(expected[k]),
                    "on_frontier": k == choice,
                    "evpi": value,
                }
            )
    return pd.DataFrame(rows)


def smooth_fit(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Fitted values of a penalised smooth regression of ``y`` on the columns of ``x``.

    Cubic B-splines per column (scikit-learn ``SplineTransformer``, knots at quantiles) plus
    pairwise products of the standardised columns, ridge-penalised with the penalty chosen
    by generalised cross-validation (``RidgeCV``): a GAM-like smoother for Strong & Oakley's
    EVPPI estimator. A constant ``y`` is returned as is.
    """
    from sklearn.linear_model import RidgeCV
    from sklearn.preprocessing import SplineTransformer, StandardScaler

    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    if np.ptp(y) == 0:
        return y.copy()
    z = StandardScaler().fit_transform(x)
    n_knots = int(min(10, max(4, round(len(y) ** (1 / 3)))))
    parts = [SplineTransformer(n_knots=n_knots, degree=3, knots="quantile").fit_transform(z)]
    d = z.shape[1]
    if d > 1:
        parts.append(
            np.column_stack([z[:, i] * z[:, j] for i in range(d) for j in range(i + 1, d)])
        )
    features = np.column_stack(parts)
    model = RidgeCV(alphas=np.logspace(-6, 3, 28)).fit(features, y)
    return model.predict(features)


def evppi(
    frame: pd.DataFrame,
    draws: pd.DataFrame,
    groups: Mapping[str, Sequence[str]],
    baseline: str,
    wtp: float,
) -> pd.DataFrame:
    """EVPPI of each parameter group at ``wtp`` (Strong & Oakley's regression estimator).

    Args:
        frame: ``psa_frame``.
        draws: One row per draw: ``draw`` and a column per parameter (``PSADraws.frame``).
        groups: Group name -> parameters; the group ``all`` (every parameter) is added.

    Returns:
        One row per group: ``parameters``, ``evppi`` (EUR per run), ``evppi_schools``
        (divided by ``wtp``), ``share_of_evpi`` (against the noise-free EVPI, the ``all``
        group), and ``evpi_draws`` (EVPI over the draws, with replicate noise).
    """
    nb, options, idx = net_benefit(frame, wtp)
    b = options.index(baseline)
    inb = nb - nb[:, [b]]
    params = draws.set_index("draw").loc[idx]
    evpi_draws = float(nb.max(axis=1).mean() - nb.mean(0).max())
    items = {**{k: list(v) for k, v in groups.items()}, ALL_GROUP: list(params.columns)}
    rows = []
    for name, members in items.items():
        x = params[list(members)].to_numpy(float)
        fitted = np.column_stack(
            [
                np.zeros(len(idx)) if k == b else smooth_fit(x, inb[:, k])
                for k in range(len(options))
            ]
        )
        value = float(fitted.max(axis=1).mean() - max(fitted.mean(0).max(), 0.0))
        rows.append(
            {
                "group": name,
                "parameters": ", ".join(members),
                "wtp": float(wtp),
                "evppi": max(value, 0.0),
                "evppi_schools": max(value, 0.0) / wtp if wtp else math.nan,
                "evpi_draws": evpi_draws,
            }
        )
    table = pd.DataFrame(rows)
    total = float(table.loc[table["group"] == ALL_GROUP, "evppi"].iloc[0])
    table["share_of_evpi"] = table["evppi"] / total if total > 0 else math.nan
    return table


def psa_at_budget(
    frame: pd.DataFrame,
    groups: Mapping[str, str],
    budget: float,
    baseline: str,
    outcome: str = "effect",
) -> pd.DataFrame:
    """What each group (structure) achieves at a fixed budget, over the parameter draws.

    The sizes to mix and their weight come from the *expected* costs over the draws
    (``cost_effectiveness.at_budget`` with draws as replicates): a ministry fixes the
    programme before it knows the parameters, so what it spends varies by draw. Per draw
    the mix gives ``(1 - w) y_lower + w y_upper``; its difference from the baseline is
    paired by draw.

    Returns:
        One row per group: ``lower``, ``upper``, ``weight``, ``spent`` (expected), the
        difference from the baseline (mean, 2.5 and 97.5 percentiles over draws), and
        ``p_most`` (share of draws in which the group achieves the most).
    """
    from mensi_sim.analysis.cost_effectiveness import at_budget

    as_summary = frame.rename(columns={"option": "scenario", "draw": "replicate"})
    plan = at_budget(as_summary, groups, budget, baseline, outcomes=(outcome,), cost="cost")
    y, options, _ = _wide(frame, outcome)
    col = {o: i for i, o in enumerate(options)}
    base = y[:, col[baseline]]
    mixes, rows = [], []
    for _, r in plan.iterrows():
        mix = (1 - r["weight"]) * y[:, col[r["lower"]]] + r["weight"] * y[:, col[r["upper"]]]
        d = mix - base
        mixes.append(mix)
        rows.append(
            {
                "group": r["group"],
                "budget": budget,
                "lower": r["lower"],
                "upper": r["upper"],
                "weight": r["weight"],
                "spent": r["spent"],
                "difference": float(d.mean()),
                "difference_low": float(np.percentile(d, 2.5)),
                "difference_high": float(np.percentile(d, 97.5)),
            }
        )
    table = pd.DataFrame(rows)
    if mixes:
        table["p_most"] = _best_share(np.column_stack(mixes))
        table["verdict"] = [
            "most" if p >= VERDICT_PROBABILITY else firmness(p) for p in table["p_most"]
        ]
    return table


def psa_analysis(
    summary: pd.DataFrame,
    design: pd.DataFrame,
    draws: pd.DataFrame,
    baseline: str,
    *,
    wtp: float,
    wtp_max: float | None = None,
    groups: Mapping[str, Sequence[str]] | None = None,
    perspective: str = DEFAULT_PERSPECTIVE,
) -> dict[str, pd.DataFrame]:
    """Every table of a PSA: ``psa`` (``psa_summary``), ``ceac`` (``ceac`` over
    ``wtp_grid``) and ``evppi`` (``evppi`` at ``wtp``; each parameter alone when no groups
    are given)."""
    frame = psa_frame(summary, design, perspective=perspective)
    names = [c for c in draws.columns if c != "draw"]
    groups = dict(groups) if groups else {n: [n] for n in names}
    table = psa_summary(frame, baseline, wtp)
    table["perspective"] = perspective
    return {
        "psa": table,
        "ceac": ceac(frame, wtp_grid(wtp, wtp_max)),
        "evppi": evppi(frame, draws, groups, baseline, wtp),
    }


NULL_PERMUTATIONS = 19  # permutations of the noise floor: its largest is a 5% test


def first_order(x: np.ndarray, y: np.ndarray) -> float:
    """Given-data first-order index ``Var(E[y | x]) / Var(y)`` by the EVPPI smoother."""
    v = float(np.var(y))
    return float(np.var(smooth_fit(x, y)) / v) if v > 0 else 0.0


def psa_sensitivity(
    frame: pd.DataFrame,
    draws: pd.DataFrame,
    baseline: str,
    outcomes: Sequence[str] = ("effect",),
    seed: int = 0,
) -> pd.DataFrame:
    """First-order sensitivity indices of every option's difference from the baseline, over
    the PSA draws (a given-data estimator: the EVPPI smoother, ``first_order``).

    Each index is reported against the dummy parameter (drawn, applied to nothing) and
    against a noise floor: the largest index of ``NULL_PERMUTATIONS`` random permutations of
    the parameter (a 5% permutation test; the smoother's overfitting and the replicate
    noise alone give that much). ``above_dummy`` is True when the index exceeds both.

    Returns:
        One row per (option, outcome, parameter): ``S1``, ``floor``, ``dummy``,
        ``above_dummy``.
    """
    rng = np.random.default_rng(seed)
    params = draws.set_index("draw")
    names = [c for c in params.columns]
    rows = []
    for outcome in outcomes:
        y_all, options, idx = _wide(frame, outcome)
        b = options.index(baseline)
        x_all = params.loc[idx]
        for k, option in enumerate(options):
            if k == b:
                continue
            y = y_all[:, k] - y_all[:, b]
            s1 = {n: first_order(x_all[[n]].to_numpy(float), y) for n in names}
            dummy = s1.get("dummy", math.nan)
            for n in names:
                x = x_all[n].to_numpy(float)
                floor = max(
                    first_order(rng.permutation(x)[:, None], y) for _ in range(NULL_PERMUTATIONS)
                )
                rows.append(
                    {
                        "option": option,
                        "outcome": outcome,
                        "parameter": n,
                        "S1": s1[n],
                        "floor": floor,
                        "dummy": dummy,
                        "above_dummy": bool(s1[n] > floor and s1[n] > dummy)
                        if n != "dummy"
                        else False,
                        "draws": len(idx),
                    }
                )
    return pd.DataFrame(rows)


def ranking_changes(frame: pd.DataFrame, baseline: str, outcome: str = "effect") -> pd.DataFrame:
    """How often the ranking of the options (by ``outcome``, largest first; the baseline
    excluded) changes across the draws, against the ranking of the expected values.

    Returns:
        One row per option: ``expected_rank`` (1 = best on the means), ``p_first`` (share of
        draws it ranks first), ``p_rank_as_expected``; and, the same on every row,
        ``p_leader_changes`` (share of draws whose leader is not the expected leader) and
        ``p_ranking_changes`` (share whose whole ranking differs).
    """
    y, options, _ = _wide(frame, outcome)
    keep = [k for k, o in enumerate(options) if o != baseline]
    y = y[:, keep]
    names = [options[k] for k in keep]
    order = np.argsort(-y.mean(0), kind="mergesort")
    expected_rank = np.empty(len(names), int)
    expected_rank[order] = np.arange(1, len(names) + 1)
    ranks = np.argsort(np.argsort(-y, axis=1, kind="mergesort"), axis=1) + 1
    first = ranks == 1
    same = ranks == expected_rank[None, :]
    leader = int(order[0])
    return pd.DataFrame(
        {
            "option": names,
            "outcome": outcome,
            "expected_rank": expected_rank,
            "expected_mean": y.mean(0),
            "p_first": first.mean(0),
            "p_rank_as_expected": same.mean(0),
            "p_leader_changes": float((~first[:, leader]).mean()),
            "p_ranking_changes": float((~same.all(axis=1)).mean()),
            "draws": y.shape[0],
        }
    )
