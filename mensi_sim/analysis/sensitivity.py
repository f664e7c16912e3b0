"""Global sensitivity analysis on replicate means: Morris screening and Sobol indices (SALib).

The pipeline is the same for the simulator and for a test function:
``sample_matrix`` (experiments/design.py) draws the points -- for an experiment once,
when it is loaded (``Experiment.samples``) --, a model maps them to outcomes --
an array of shape (points,) or (points, replicates) -- and ``analyse_sample``
averages the replicates and calls SALib's Morris or Sobol analysis, whose
confidence intervals are SALib's bootstrap intervals.

Replicate noise, and why under common random numbers it needs care. The analysis sees
the mean of R replicates at each point; replicate r of every point runs on the same seed,
so its noise has a part common to all points (it cancels in every index) and a part
specific to the point (it does not: Sobol's total-order estimator counts its variance as if
a parameter caused it, about ``noise_share`` of spurious ST for *every* parameter). Three
diagnostics, all correct under common random numbers:

- ``noise_share`` counts only the point-specific part:
  ``(mean_x var_r y(x, r) - var_r mean_x y(x, r)) / R / var_x(mean_r y(x, r))``; above
  ``NOISE_WARNING`` (5%, since it adds about as much to every ST) the command warns;
- the **dummy parameter** (``design.DUMMY``), sampled like the others and read by nothing:
  its index is what noise and estimation error produce, and each index is reported against
  it (``above_dummy``: the index's lower bound exceeds the dummy's upper bound);
- **repeated estimation**: the indices computed on each replicate alone; their spread over
  the replicates, divided by sqrt(R), is the replicate-noise standard error of each index
  (``noise_se``).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mensi_sim.experiments.design import DUMMY, problem, sample_matrix

if TYPE_CHECKING:
    from mensi_sim.experiments.spec import Experiment

NOISE_WARNING = 0.05  # about as much spurious ST for every parameter (see the module doc)
NUM_RESAMPLES = 1000  # bootstrap resamples of SALib's confidence intervals
REPEAT_RESAMPLES = 100  # per-replicate indices need their values only, not their CIs


def noise_share(y: np.ndarray) -> float:
    """Share of the variance of replicate means that is point-specific replicate noise (NaN
    with 1 replicate), correct under common random numbers.

    ``(mean_x var_r y - var_r mean_x y) / R / var_x mean_r y``: the variance of the noise
    common to all points (same seed for replicate r everywhere) is removed, since it moves
    every point alike and cancels in the indices. With independent seeds the common part
    is only ``var / points`` and this is the plain within-point share.

    Args:
        y: Outcomes, shape (points, replicates).
    """
    y = np.asarray(y, dtype=float)
    if y.ndim == 1 or y.shape[1] < 2:
        return math.nan
    within = float(np.nanmean(np.nanvar(y, axis=1, ddof=1)))
    common = float(np.nanvar(np.nanmean(y, axis=0), ddof=1))
    noise = max(within - common, 0.0) / y.shape[1]
    between = float(np.nanvar(np.nanmean(y, axis=1), ddof=1))
    if between == 0.0:
        return 0.0 if noise == 0.0 else math.inf
    return noise / between


def morris_indices(
    prob: dict[str, Any],
    x: np.ndarray,
    y: np.ndarray,
    *,
    levels: int = 4,
    seed: int = 0,
    num_resamples: int = NUM_RESAMPLES,
    level: float = 0.95,
) -> pd.DataFrame:
    """Morris elementary effects: mu, mu* (with bootstrap CI half-width) and sigma.

    Returns:
        One row per parameter: ``parameter``, ``mu``, ``mu_star``, ``mu_star_conf``
        (half-width of SALib's bootstrap CI), ``sigma``.
    """
    from SALib.analyze import morris

    res = morris.analyze(
        prob,
        np.asarray(x, dtype=float),
        np.asarray(y, dtype=float),
        num_resamples=num_resamples,
        conf_level=level,
        num_levels=levels,
        seed=seed,
    )
    return pd.DataFrame(
        {
            "parameter": prob["names"],
            "mu": np.asarray(res["mu"], dtype=float),
            "mu_star": np.asarray(res["mu_star"], dtype=float),
            "mu_star_conf": np.asarray(res["mu_star_conf"], dtype=float),
            "sigma": np.asarray(res["sigma"], dtype=float),
        }
    )


def sobol_indices(
    prob: dict[str, Any],
    y: np.ndarray,
    *,
    second_order: bool = False,
    seed: int = 0,
    num_resamples: int = NUM_RESAMPLES,
    level: float = 0.95,
) -> pd.DataFrame:
    """Sobol first-order (S1) and total-order (ST) indices with bootstrap CI half-widths.

    ``y`` must follow the order of SALib's Saltelli sample (``sample_matrix(...,
    "sobol")``).

    Returns:
        One row per parameter: ``parameter``, ``S1``, ``S1_conf``, ``ST``, ``ST_conf``.
    """
    from SALib.analyze import sobol

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # 0/0 on a constant outcome
        res = sobol.analyze(
            prob,
            np.asarray(y, dtype=float),
            calc_second_order=second_order,
            num_resamples=num_resamples,
            conf_level=level,
            # a Generator, not the int: SALib 1.6 seeds its bootstrap only `if seed:`, so
            # seed 0 (the default here) drew unseeded resamples and the intervals changed
            # from run to run; default_rng(seed) is the very stream it makes of any other int
            seed=np.random.default_rng(seed),
        )
    return pd.DataFrame(
        {
            "parameter": prob["names"],
            "S1": np.asarray(res["S1"], dtype=float),
            "S1_conf": np.asarray(res["S1_conf"], dtype=float),
            "ST": np.asarray(res["ST"], dtype=float),
            "ST_conf": np.asarray(res["ST_conf"], dtype=float),
        }
    )


#: the index each method ranks by and compares with the dummy
MAIN_INDEX = {"morris": "mu_star", "sobol": "ST"}


@dataclass(frozen=True)
class SensitivityResult:
    """Indices of one sample and one outcome, with the replicate-noise diagnosis."""

    method: str
    indices: pd.DataFrame
    noise_share: float
    replications: int

    @property
    def noisy(self) -> bool:
        """True when replicate noise is above NOISE_WARNING of the variance analysed."""
        return not self.noise_share <= NOISE_WARNING  # NaN (1 replicate) counts as noisy

    def warning(self) -> str | None:
        """A one-line warning when the noise is large against the effects, else None."""
        below = self.below_dummy()
        tail = (
            f"; {len(below)} of {len(self.indices) - 1} indices are not above the dummy's "
            f"({', '.join(below[:4])}{', ...' if len(below) > 4 else ''})"
            if below
            else ""
        )
        if math.isnan(self.noise_share):
            return (
                f"{self.method}: replicate noise cannot be estimated with "
                f"{self.replications} replication; use at least 2{tail}"
            )
        if self.noisy:
            return (
                f"{self.method}: point-specific replicate noise is "
                f"{100 * self.noise_share:.1f}% of the variance of the replicate means (above "
                f"{100 * NOISE_WARNING:.0f}%, and it adds about as much to every total-order "
                f"index): the indices are unreliable; add replications{tail}"
            )
        if below:
            return f"{self.method}: indistinguishable from noise{tail}"
        return None

    def below_dummy(self) -> list[str]:
        """The parameters whose main index is not above the dummy's (``above_dummy``)."""
        idx = self.indices
        if "above_dummy" not in idx.columns:
            return []
        rows = idx[(idx["parameter"] != DUMMY) & ~idx["above_dummy"].astype(bool)]
        return list(rows["parameter"])


def analyse_sample(
    prob: dict[str, Any],
    method: str,
    x: np.ndarray,
    y: np.ndarray,
    *,
    levels: int = 4,
    second_order: bool = False,
    seed: int = 0,
    num_resamples: int = NUM_RESAMPLES,
) -> SensitivityResult:
    """Indices from outcomes at the sample points (replicates averaged first).

    Args:
        prob: SALib problem (``design.problem``).
        method: ``"morris"`` or ``"sobol"``.
        x: The sample points, in sample order.
        y: Outcomes, shape (points,) or (points, replicates).
    """
    y = np.asarray(y, dtype=float)
    y2 = y[:, None] if y.ndim == 1 else y
    means = np.nanmean(y2, axis=1)
    share = noise_share(y2) if y2.shape[1] > 1 else math.nan

    def indices(values: np.ndarray, resamples: int) -> pd.DataFrame:
        if method == "morris":
            return morris_indices(
                prob, x, values, levels=levels, seed=seed, num_resamples=resamples
            )
        if method == "sobol":
            return sobol_indices(
                prob, values, second_order=second_order, seed=seed, num_resamples=resamples
            )
        raise ValueError(f"no sensitivity indices for sample method {method!r}")

    idx = indices(means, num_resamples)
    main = MAIN_INDEX[method]
    # repeated estimation: the indices of each replicate alone; their spread / sqrt(R) is
    # the replicate-noise standard error of the indices on the means
    if y2.shape[1] > 1:
        each = [
            indices(y2[:, r], REPEAT_RESAMPLES)[main].to_numpy(float) for r in range(y2.shape[1])
        ]
        idx["noise_se"] = np.std(np.vstack(each), axis=0, ddof=1) / math.sqrt(y2.shape[1])
    else:
        idx["noise_se"] = math.nan
    if DUMMY in list(idx["parameter"]):
        d = idx[idx["parameter"] == DUMMY].iloc[0]
        conf = f"{main}_conf"
        idx["dummy"] = float(d[main])
        idx["above_dummy"] = (idx[main] - idx[conf]) > (d[main] + d[conf])
    return SensitivityResult(method, idx, share, y2.shape[1])


def sensitivity_analysis(
    ranges: dict[str, Sequence[float]],
    method: str,
    n: int,
    model: Callable[[np.ndarray], np.ndarray],
    *,
    seed: int = 0,
    levels: int = 4,
    second_order: bool = False,
    num_resamples: int = NUM_RESAMPLES,
) -> SensitivityResult:
    """Sample, evaluate ``model`` on the points, and analyse: the whole pipeline.

    Args:
        ranges: Parameter name -> [low, high].
        method: ``"morris"`` or ``"sobol"``.
        n: Trajectories (Morris) or base sample size N (Sobol, a power of 2).
        model: Maps the points (rows) to outcomes, shape (points,) or
            (points, replicates).
    """
    prob = problem({k: list(v) for k, v in ranges.items()})
    x = sample_matrix(prob, method, n, seed=seed, levels=levels, second_order=second_order)
    return analyse_sample(
        prob,
        method,
        x,
        model(x),
        levels=levels,
        second_order=second_order,
        seed=seed,
        num_resamples=num_resamples,
    )


def long_table(result: SensitivityResult, outcome: str) -> pd.DataFrame:
    """Indices in long format: method, outcome, parameter, index, value, conf, the noise
    diagnostics (``noise_share``, ``noise_warning``, and for the main index ``noise_se``
    and the ``dummy``'s value) and ``above_dummy``."""
    idx = result.indices
    pairs = (
        [("mu_star", "mu_star_conf"), ("sigma", None), ("mu", None)]
        if result.method == "morris"
        else [("S1", "S1_conf"), ("ST", "ST_conf")]
    )
    rows = []
    for _, r in idx.iterrows():
        for name, conf in pairs:
            rows.append(
                {
                    "method": result.method,
                    "outcome": outcome,
                    "parameter": r["parameter"],
                    "index": name,
                    "value": float(r[name]),
                    "conf": float(r[conf]) if conf else math.nan,
                    "replications": result.replications,
                    "noise_share": result.noise_share,
                    "noise_warning": result.noisy,
                    "noise_se": float(r["noise_se"])
                    if name == MAIN_INDEX[result.method]
                    else math.nan,
                    "dummy": float(r["dummy"])
                    if "dummy" in r and name == MAIN_INDEX[result.method]
                    else math.nan,
                    "above_dummy": bool(r["above_dummy"]) if "above_dummy" in r else True,
                }
            )
    return pd.DataFrame(rows)


def experiment_sensitivity(
    experiment: Experiment, summary: pd.DataFrame, outcomes: Sequence[str] | None = None
) -> tuple[pd.DataFrame, list[str]]:
    """Morris and Sobol indices of an experiment's samples from its summary table.

    The sample points are the ones drawn when the experiment was loaded
    (``Experiment.samples``), in sample order; the summary gives the outcomes of the
    design point of each row.

    Returns:
        (long table of indices for every sample and outcome, list of warnings).
    """
    outcomes = list(outcomes or experiment.spec.outcomes)
    tables, notes = [], []
    for design in experiment.samples:
        sample = design.spec
        if sample.method not in ("morris", "sobol"):
            continue
        points = sorted(
            (p for p in experiment.points if p.sample is not None and p.sample[0] == design.label),
            key=lambda p: p.sample[1],
        )
        names = [p.name for p in points]
        sub = summary[summary["scenario"].isin(names)]
        for outcome in outcomes:
            wide = sub.pivot(index="scenario", columns="replicate", values=outcome)
            wide = wide.reindex(names)
            y = wide.to_numpy(float)
            if np.isnan(y).all(axis=1).any():
                notes.append(
                    f"{sample.method}: {outcome}: some sample points have no "
                    "successful run; indices not computed"
                )
                continue
            res = analyse_sample(
                design.problem,
                sample.method,
                design.points,
                y,
                levels=sample.levels,
                second_order=sample.second_order,
                seed=design.seed,
            )
            tables.append(long_table(res, outcome))
            if (w := res.warning()) is not None:
                notes.append(f"{outcome}: {w}")
    table = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()
    return table, notes
