"""Optimising a programme's design: many-objective search over levers, robust to noise.

``optimise(design)`` searches the levers of a design file (``optimise_spec``) with pymoo's
NSGA-II (up to three objectives) or NSGA-III (four or more), evaluates every candidate on
the same replicates (common random numbers), chooses the number of replicates by the
stability of the Pareto front, re-evaluates the final front on fresh seeds next to the
shipped programmes, runs the front on a PSA draw set and reports each design's regret
across the draws when the file asks (``[robustness]``, ``optimise_robust``), and returns
the tables (``OptimiseResult``). docs/EXPERIMENTS.md,
section 7, says how and why.

Why pymoo: a generation is evaluated in one call (``Problem._evaluate`` on the whole
population), which becomes one parallel batch on the process pool or a Dask cluster;
constraints (budget, mentors, coverage) are handled by constraint domination, with no
penalty weights to tune; NSGA-III is there for four objectives, where NSGA-II's crowding
distance stops separating solutions; mixed variables (choices, integers, reals, yes/no)
are built in; and its random stream is its own ``numpy.random.Generator`` from one seed
(no global state), so a seeded search asks for the same candidates again and an
interrupted optimisation resumes by replaying it against the stored evaluations.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Sequence
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mensi_sim.analysis.optimise_evaluate import (
    HOLDOUT,
    ROBUSTNESS,
    SEARCH,
    EvaluationStore,
    Evaluator,
    Progress,
    parameters_json,
)
from mensi_sim.analysis.optimise_front import (
    front_of,
    front_stability,
    knee_point,
    outcome_intervals,
    paired_against,
    spread_pick,
)
from mensi_sim.analysis.optimise_levers import (
    Variable,
    candidate_id,
    candidate_scenario,
    canonical,
    check_lever_domains,
    describe_design,
    planned_mentors,
    start_values,
    variables,
)
from mensi_sim.analysis.optimise_robust import evaluate_robustness, robustness_root_seed
from mensi_sim.analysis.optimise_spec import Design, load_design
from mensi_sim.analysis.paired import paired, t_interval
from mensi_sim.errors import MensiError, ResultsError
from mensi_sim.experiments import runstore
from mensi_sim.experiments.execution import make_executor
from mensi_sim.experiments.manifest import now_utc
from mensi_sim.experiments.replicate import programme_years
from mensi_sim.scenario.schema import Scenario

ADOPTION = "final_adoption_share"
CASH = "total_cash"
#: outcomes every comparison with the shipped programmes reports, with their better side
VERDICT_OUTCOMES = {
    ADOPTION: "max",
    CASH: "min",
    "final_equity_gap": "min",
    "total_staff_time": "min",
    "total_cost": "min",
}
#: violation given to a candidate whose scenario is invalid or whose runs failed
INVALID = 1e6
MANIFEST_KIND = "optimisation"


class OptimiseError(MensiError):
    """An optimisation cannot start or resume (bad options, a results folder in the way)."""


@dataclasses.dataclass(frozen=True)
class OptimiseOptions:
    """How to run an optimisation; a field left at None takes the design file's value.

    Attributes:
        executor: ``serial``, ``local``, ``dask``, ``tcp://host:port`` or an Executor.
        workers: Processes (local, dask).
        batch: Runs per task.
        out: Results folder; without it nothing is written.
        resume: Continue an optimisation in ``out`` (only missing runs are run).
        population, generations, replications, max_replications: Override ``[search]``.
        holdout_replications: Override ``holdout.replications``.
    """

    executor: str | Executor | None = None
    workers: int | None = None
    batch: int | None = None
    out: str | Path | None = None
    resume: bool = False
    population: int | None = None
    generations: int | None = None
    replications: int | None = None
    max_replications: int | None = None
    holdout_replications: int | None = None


@dataclasses.dataclass(frozen=True)
class OptimiseResult:
    """What an optimisation found.

    Attributes:
        design: The design file.
        candidates: One row per candidate evaluated in the search (in-sample means over the
            search's replicates, constraints, feasibility, the in-sample front).
        front: The re-evaluated front and the shipped programmes on fresh seeds: one row
            each, means and 95% CIs, out-of-sample feasibility and front, knee and
            budget-best, the design in words, and the verdict against the shipped ones.
        paired: Paired differences of every front design against every shipped programme.
        stability: The replicate decisions (replicates, front stability) of the search.
        evaluations: Every run's summary row, with its phase (``search``, ``holdout``).
        budget: The budget per programme year (EUR), or None.
        manifest: What manifest.json records.
        out: The results folder (None when nothing was written).
        robustness: The regret table across the ``[robustness]`` draws: one row per
            (measure, design) with mean and largest regret, P(best), robust, minimax
            (``optimise_robust``); empty when the design file has no ``[robustness]``.
        robustness_draws: The regret of each design under each draw, per measure.
    """

    design: Design
    candidates: pd.DataFrame
    front: pd.DataFrame
    paired: pd.DataFrame
    stability: pd.DataFrame
    evaluations: pd.DataFrame
    budget: float | None
    manifest: dict[str, Any]
    out: Path | None = None
    robustness: pd.DataFrame = dataclasses.field(default_factory=pd.DataFrame)
    robustness_draws: pd.DataFrame = dataclasses.field(default_factory=pd.DataFrame)

    @property
    def chosen(self) -> pd.Series | None:
        """The budget-best design's row of ``front`` (the knee's when no front design is
        within the budget); None when no design was re-evaluated."""
        designs = self.front[self.front["kind"] == "design"]
        pick = designs[designs["budget_best"]]
        if pick.empty:
            pick = designs[designs["knee"]]
        return None if pick.empty else pick.iloc[0]

    @property
    def verdict(self) -> str:
        """One sentence: does a design beat every shipped programme within the budget?"""
        return self.manifest["verdict"]

    @property
    def robust_design(self) -> str | None:
        """The design (or shipped programme) best on adoption at the horizon in at least
        95% of the ``[robustness]`` draws; None when none is, or nothing was evaluated."""
        if self.robustness.empty:
            return None
        rows = self.robustness[(self.robustness["measure"] == ADOPTION) & self.robustness["robust"]]
        return None if rows.empty else str(rows["design"].iloc[0])


# ---------------------------------------------------------------------------- pymoo


def _random_key_class() -> type:
    """pymoo's ``Real`` under its own name, so that the mating treats random keys apart."""
    from pymoo.core.variable import Real

    global _RANDOM_KEY
    if _RANDOM_KEY is None:
        _RANDOM_KEY = type("RandomKey", (Real,), {"__doc__": "A roll-out lever's random key."})
    return _RANDOM_KEY


_RANDOM_KEY: type | None = None


def pymoo_variables(variables_: Sequence[Variable]) -> dict[str, Any]:
    """The pymoo variables of a design's decision variables (a roll-out lever's keys are
    ``RandomKey`` reals: ``make_algorithm`` mates them by rank, not by value)."""
    from pymoo.core.variable import Binary, Choice, Integer, Real

    out: dict[str, Any] = {}
    for v in variables_:
        if v.kind == "key":
            out[v.name] = _random_key_class()(bounds=(0.0, 1.0))
        elif v.kind == "choice":
            out[v.name] = Choice(options=list(v.options))
        elif v.kind == "integer":
            out[v.name] = Integer(bounds=(int(v.bounds[0]), int(v.bounds[1])))
        elif v.kind == "real":
            out[v.name] = Real(bounds=(float(v.bounds[0]), float(v.bounds[1])))
        else:
            out[v.name] = Binary()
    return out


def algorithm_name(choice: str, n_objectives: int) -> str:
    """``nsga2`` or ``nsga3``: ``auto`` takes NSGA-III from four objectives on."""
    if choice != "auto":
        return choice
    return "nsga3" if n_objectives >= 4 else "nsga2"


def make_algorithm(
    name: str,
    population: int,
    n_objectives: int,
    seed: int,
    starts: Sequence[dict[str, Any]] = (),
) -> Any:
    """A mixed-variable NSGA-II or NSGA-III with duplicate elimination; ``starts`` are
    designs put in the first generation (the rest is sampled at random)."""
    from pymoo.algorithms.moo.nsga2 import NSGA2
    from pymoo.algorithms.moo.nsga3 import NSGA3
    from pymoo.core.mixed import (
        MixedVariableDuplicateElimination,
        MixedVariableMating,
        MixedVariableSampling,
    )
    from pymoo.operators.crossover.ux import UX
    from pymoo.operators.mutation.rm import ChoiceRandomMutation
    from pymoo.util.ref_dirs import get_reference_directions

    class StartSampling(MixedVariableSampling):
        def _do(self, problem: Any, n_samples: int, random_state: Any = None, **kw: Any) -> Any:
            sampled = super()._do(problem, n_samples, random_state=random_state, **kw)
            given = [dict(s) for s in starts][:n_samples]
            return given + sampled[len(given) :]

    dup = MixedVariableDuplicateElimination()
    # random keys (a roll-out's order): uniform crossover swaps whole keys between parents
    # and a mutation draws a key afresh, so that children try other orders; SBX and the
    # polynomial mutation of reals would move keys a little and keep the parents' order
    mating = MixedVariableMating(eliminate_duplicates=dup)
    mating.crossover[_random_key_class()] = UX()
    mating.mutation[_random_key_class()] = ChoiceRandomMutation()
    common = {
        "pop_size": population,
        "sampling": StartSampling(),
        "mating": mating,
        "eliminate_duplicates": dup,
        "seed": seed,
    }
    if name == "nsga2":
        return NSGA2(**common)
    if n_objectives == 1:
        ref_dirs = np.ones((1, 1))
    else:
        ref_dirs = get_reference_directions("energy", n_objectives, population, seed=seed)
    return NSGA3(ref_dirs=ref_dirs, **common)


# ---------------------------------------------------------------------------- evaluation


@dataclasses.dataclass
class Candidate:
    """One design the search asked for."""

    id: str
    values: dict[str, Any]
    scenario: Scenario | None
    error: str
    generation: int
    mentors: int


class DesignSearch:
    """The objective function of the search: candidates in, oriented means out.

    It holds every candidate asked for (``candidates``), decides the number of
    replicates on the first generation (``replications``, ``stability``) and evaluates on
    the search's replicates through the ``Evaluator``.
    """

    def __init__(
        self, design: Design, evaluator: Evaluator, budget: float | None, search: Any
    ) -> None:
        self.design = design
        self.evaluator = evaluator
        self.budget = budget
        self.search = search
        spec = design.spec
        self.objectives = dict(spec.objectives)
        self.sign = np.array([-1.0 if s == "max" else 1.0 for s in self.objectives.values()])
        self.constraints = constraint_names(spec.constraints, budget)
        self.candidates: dict[str, Candidate] = {}
        self.replications: int | None = None
        self.stability: list[dict] = []
        self.generation = 0

    def candidate(self, raw: dict[str, Any]) -> Candidate:
        values = canonical(self.design, raw)
        cid = candidate_id(values)
        if cid not in self.candidates:
            try:
                scenario = candidate_scenario(self.design, values, cid)
                error, mentors = "", planned_mentors(scenario)
            except MensiError as exc:
                scenario, error, mentors = None, str(exc), 0
            self.candidates[cid] = Candidate(cid, values, scenario, error, self.generation, mentors)
        return self.candidates[cid]

    def arrays(
        self, cands: Sequence[Candidate], summary: pd.DataFrame, n_rep: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """(candidates, replicates, objectives) oriented values and (candidates, replicates,
        constraints) values; a candidate missing a replicate gets INVALID violations."""
        k, j = len(self.objectives), len(self.constraints)
        y = np.zeros((len(cands), n_rep, k))
        g = np.zeros((len(cands), n_rep, j))
        by_name = {n: f for n, f in summary.groupby("scenario", sort=False)} if len(summary) else {}
        for i, cand in enumerate(cands):
            frame = by_name.get(cand.id)
            if cand.scenario is None or frame is None or len(frame) < n_rep:
                y[i] = INVALID
                g[i] = INVALID
                continue
            frame = frame.sort_values("replicate").iloc[:n_rep]
            y[i] = frame[list(self.objectives)].to_numpy(float) * self.sign
            g[i] = constraint_values(frame, cand, self.design.spec.constraints, self.budget)
        return y, g

    def evaluate(self, raws: Sequence[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
        """Mean oriented objectives (n, k) and constraints (n, j) of the asked candidates."""
        cands = [self.candidate(raw) for raw in raws]
        runnable = {c.id: c.scenario for c in cands if c.scenario is not None}
        seed = self.design.spec.root_seed
        if self.replications is None:
            n_rep = self.search.replications
            while True:
                summary = self.evaluator.evaluate(SEARCH, seed, runnable, range(n_rep))
                y, g = self.arrays(cands, summary, n_rep)
                rng = np.random.default_rng([self.search.seed, n_rep])
                s = front_stability(y, g, self.search.bootstrap, rng)
                self.stability.append(
                    {"stage": "generation 0", "replications": n_rep, "stability": s}
                )
                if s >= self.search.stability or n_rep >= self.search.max_replications:
                    break
                n_rep = min(2 * n_rep, self.search.max_replications)
            self.replications = n_rep
        else:
            n_rep = self.replications
            summary = self.evaluator.evaluate(SEARCH, seed, runnable, range(n_rep))
            y, g = self.arrays(cands, summary, n_rep)
        self.generation += 1
        return y.mean(axis=1), g.mean(axis=1)

    def problem(self) -> Any:
        """The pymoo Problem whose evaluation is ``self.evaluate``."""
        from pymoo.core.problem import Problem

        search = self

        class _Problem(Problem):
            def __init__(self) -> None:
                super().__init__(
                    vars=pymoo_variables(variables(search.design)),
                    n_obj=len(search.objectives),
                    n_ieq_constr=len(search.constraints),
                )

            def _evaluate(self, x: Any, out: dict, *args: Any, **kwargs: Any) -> None:
                f, g = search.evaluate(list(x))
                out["F"] = f
                if search.constraints:
                    out["G"] = g

        return _Problem()


def constraint_names(constraints: Any, budget: float | None) -> list[str]:
    """The constraints a design file sets, in a fixed order."""
    names = []
    if budget is not None:
        names.append("budget")
    if constraints.max_mentors is not None:
        names.append("max_mentors")
    if constraints.min_disadvantaged_coverage is not None:
        names.append("min_disadvantaged_coverage")
    return names


def spend_per_year(frame: pd.DataFrame, scenario: Scenario, kind: str) -> np.ndarray:
    """Cash (or total cost) per programme year of each replicate row."""
    column = CASH if kind == "cash" else "total_cost"
    years = programme_years(scenario, scenario.time.steps) or 1.0
    return frame[column].to_numpy(float) / years


def constraint_values(
    frame: pd.DataFrame, cand: Candidate, constraints: Any, budget: float | None
) -> np.ndarray:
    """Per replicate, each constraint as ``g <= 0`` kept, scaled to its limit."""
    cols = []
    if budget is not None:
        spent = spend_per_year(frame, cand.scenario, constraints.budget_kind)
        cols.append((spent - budget) / budget)
    if constraints.max_mentors is not None:
        limit = max(constraints.max_mentors, 1)
        cols.append(np.full(len(frame), (cand.mentors - constraints.max_mentors) / limit))
    if constraints.min_disadvantaged_coverage is not None:
        cover = frame["end_coverage_disadvantaged"].to_numpy(float)
        cols.append(constraints.min_disadvantaged_coverage - cover)
    return np.column_stack(cols) if cols else np.zeros((len(frame), 0))


# ---------------------------------------------------------------------------- the run


def _prepare_out(out: Path, design: Design, resume: bool) -> None:
    if out.exists() and not out.is_dir():
        raise ResultsError(f"{out}: exists and is not a directory")
    if not out.exists() or not any(out.iterdir()):
        return
    if not resume:
        raise ResultsError(
            f"{out}: directory exists and is not empty (use --resume to continue the "
            "optimisation there, or another --out)"
        )
    manifest = runstore.read_manifest(out)
    if manifest is None or manifest.get("kind") != MANIFEST_KIND:
        raise ResultsError(f"{out}: cannot resume: not an optimisation's results folder")
    if manifest.get("design_hash") != design.hash:
        raise ResultsError(
            f"{out}: cannot resume: made by a different design ({manifest.get('design')!r}, "
            f"hash {manifest.get('design_hash')}; this is {design.name!r}, hash {design.hash})"
        )


def _search_spec(design: Design, opts: OptimiseOptions) -> Any:
    changes = {
        k: getattr(opts, k)
        for k in ("population", "generations", "replications", "max_replications")
        if getattr(opts, k) is not None
    }
    search = design.spec.search.model_copy(update=changes)
    if search.max_replications < search.replications:
        search = search.model_copy(update={"max_replications": search.replications})
    return search


def measure_budget(design: Design, evaluator: Evaluator, n_rep: int) -> float | None:
    """The budget per programme year: the file's number, or the mean spend per year of the
    shipped structure it names, measured on the search's first ``n_rep`` replicates."""
    c = design.spec.constraints
    if c.budget is None or isinstance(c.budget, float | int):
        return None if c.budget is None else float(c.budget)
    scenario = design.shipped(c.budget)
    summary = evaluator.evaluate(SEARCH, design.spec.root_seed, {c.budget: scenario}, range(n_rep))
    if len(summary) < n_rep:
        raise OptimiseError(f"constraints.budget: the runs of {c.budget!r} failed")
    return float(spend_per_year(summary, scenario, c.budget_kind).mean())


def candidates_table(search: DesignSearch, n_rep: int) -> pd.DataFrame:
    """One row per candidate: its values, in-sample means and sds, constraints, front."""
    cands = list(search.candidates.values())
    summary = search.evaluator.store.summary(SEARCH)
    y, g = search.arrays(cands, summary, n_rep)
    f, gm = y.mean(axis=1), g.mean(axis=1)
    front = set(front_of(f, gm).tolist())
    kind = search.design.spec.constraints.budget_kind
    by_name = dict(tuple(summary.groupby("scenario", sort=False))) if len(summary) else {}
    rows = []
    for i, cand in enumerate(cands):
        frame = by_name.get(cand.id)
        spend = (
            float(spend_per_year(frame.iloc[:n_rep], cand.scenario, kind).mean())
            if cand.scenario is not None and frame is not None and len(frame) >= n_rep
            else math.nan
        )
        row: dict[str, Any] = {
            "candidate": cand.id,
            "generation": cand.generation,
            "values": parameters_json(cand.values),
            "error": cand.error,
            "replications": n_rep,
            "mentors": cand.mentors,
        }
        for k, (outcome, _) in enumerate(search.objectives.items()):
            valid = cand.scenario is not None and y[i, 0, k] != INVALID
            row[f"{outcome}_mean"] = f[i, k] * search.sign[k] if valid else math.nan
            row[f"{outcome}_sd"] = (
                float(np.std(y[i, :, k], ddof=1)) if valid and n_rep > 1 else math.nan
            )
        row["spend_per_year_mean"] = spend
        for j, name in enumerate(search.constraints):
            row[f"g_{name}"] = gm[i, j]
        row["feasible"] = (
            bool(np.all(gm[i] <= 0)) if search.constraints else cand.scenario is not None
        )
        row["front"] = i in front
        rows.append(row)
    return pd.DataFrame(rows)


def _holdout_tables(
    design: Design,
    search: DesignSearch,
    evaluator: Evaluator,
    chosen: list[Candidate],
    budget: float | None,
    n_rep: int,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Front designs and shipped programmes on fresh seeds: the front table and the
    paired differences."""
    spec = design.spec
    shipped = {s: design.shipped(s) for s in spec.holdout.compare}
    scenarios = {c.id: c.scenario for c in chosen} | shipped
    summary = evaluator.evaluate(HOLDOUT, spec.holdout_seed, scenarios, range(n_rep))
    outcomes = list(
        dict.fromkeys([*search.objectives, *VERDICT_OUTCOMES, "end_coverage_disadvantaged"])
    )
    names = list(scenarios)
    table = outcome_intervals(summary, names, outcomes)
    kind = spec.constraints.budget_kind
    spend = []
    for name in names:
        part = summary.loc[summary["scenario"] == name]
        values = spend_per_year(part, scenarios[name], kind)
        spend.append(
            (values.mean(), *_ci(values)) if values.size else (math.nan, math.nan, math.nan)
        )
    table["spend_per_year_mean"] = [s[0] for s in spend]
    table["spend_per_year_ci_low"] = [s[1] for s in spend]
    table["spend_per_year_ci_high"] = [s[2] for s in spend]
    table.insert(1, "kind", ["design" if n in {c.id for c in chosen} else "shipped" for n in names])
    by_id = {c.id: c for c in chosen}
    table["mentors"] = [by_id[n].mentors if n in by_id else math.nan for n in names]
    table["design"] = [
        describe_design(design, by_id[n].values) if n in by_id else shipped[n].structure.description
        for n in names
    ]
    table["values"] = [parameters_json(by_id[n].values) if n in by_id else "" for n in names]
    # out of sample: constraints on the fresh means, then the front among the designs
    feasible = []
    for _, row in table.iterrows():
        ok = row["n"] >= n_rep
        if budget is not None:
            ok &= bool(row["spend_per_year_mean"] <= budget)
        c = spec.constraints
        if c.max_mentors is not None and row["kind"] == "design":
            ok &= bool(row["mentors"] <= c.max_mentors)
        if c.min_disadvantaged_coverage is not None:
            ok &= bool(row["end_coverage_disadvantaged_mean"] >= c.min_disadvantaged_coverage)
        feasible.append(bool(ok))
    table["feasible"] = feasible
    is_design = (table["kind"] == "design").to_numpy()
    f = np.column_stack(
        [
            table[f"{o}_mean"].to_numpy(float) * s
            for o, s in zip(search.objectives, search.sign, strict=True)
        ]
    )
    designs = np.flatnonzero(is_design & table["feasible"].to_numpy())
    front_rows = designs[front_of(f[designs], np.zeros((designs.size, 0)))] if designs.size else []
    table["front"] = [i in set(np.asarray(front_rows).tolist()) for i in range(len(table))]
    table["knee"] = False
    table["budget_best"] = False
    if len(front_rows):
        fr = np.asarray(front_rows)
        # the knee of the adoption-spend trade-off, among the front designs that no other
        # front design beats on both adoption and spend
        benefit = table.loc[fr, f"{ADOPTION}_mean"].to_numpy(float)
        spend = table.loc[fr, "spend_per_year_mean"].to_numpy(float)
        two = front_of(np.column_stack([-benefit, spend]), np.zeros((fr.size, 0)))
        knee = knee_point(benefit[two], spend[two])
        if knee is not None:
            table.loc[fr[two[knee]], "knee"] = True
        within = fr if budget is None else fr[table.loc[fr, "spend_per_year_mean"] <= budget]
        if len(within):
            best = within[np.argmax(table.loc[within, f"{ADOPTION}_mean"].to_numpy())]
            table.loc[best, "budget_best"] = True
    paired = paired_against(summary, [c.id for c in chosen], list(shipped), VERDICT_OUTCOMES)
    # verdicts: which shipped programmes each design beats on adoption (paired CI above 0),
    # and whether it stays within the budget with the evidence to say so
    beats, within_budget = [], []
    budget_of = spec.constraints.budget if isinstance(spec.constraints.budget, str) else None
    for name, row in zip(table["scenario"], table.itertuples(index=False), strict=True):
        if name not in by_id:
            beats.append("")
            within_budget.append(False)
            continue
        mine = paired[(paired["design"] == name) & (paired["outcome"] == ADOPTION)]
        beats.append(",".join(mine.loc[mine["better"], "programme"]))
        if budget is None:
            within_budget.append(True)
        elif budget_of is not None and budget_of in shipped:
            gap = _paired_spend_gap(summary, name, budget_of, scenarios, kind)
            within_budget.append(bool(t_interval(gap)[2] <= 0))
        else:
            within_budget.append(bool(row.spend_per_year_ci_high <= budget))
    table["beats"] = beats
    table["within_budget"] = within_budget
    table["beats_all"] = [
        bool(name in by_id and set(b.split(",")) >= set(shipped) and wb)
        for name, b, wb in zip(table["scenario"], beats, within_budget, strict=True)
    ]
    return table, paired


def _paired_spend_gap(
    summary: pd.DataFrame, design: str, programme: str, scenarios: dict, kind: str
) -> np.ndarray:
    """Per common replicate, the design's spend per programme year minus the programme's:
    a roll-out over two years is compared with a one-year programme year for year, not on
    its total cash."""
    column = CASH if kind == "cash" else "total_cost"
    mine, theirs = paired(summary, design, programme, column)
    years = [
        programme_years(scenarios[n], scenarios[n].time.steps) or 1.0 for n in (design, programme)
    ]
    return mine / years[0] - theirs / years[1]


def _ci(values: np.ndarray) -> tuple[float, float]:
    from mensi_sim.stats import mean_ci

    _, low, high = mean_ci(values)
    return low, high


def verdict_sentence(front: pd.DataFrame, budget: float | None, spec: Any) -> str:
    """Whether a design beats every shipped programme on adoption within the budget, in
    one sentence no stronger than the evidence."""
    designs = front[front["kind"] == "design"]
    shipped = list(front.loc[front["kind"] == "shipped", "scenario"])
    winners = designs[designs["beats_all"]]
    budget_text = "" if budget is None else f" within EUR {budget:,.0f} a year"
    if not winners.empty:
        best = winners.sort_values(f"{ADOPTION}_mean", ascending=False).iloc[0]
        return (
            f"design {best['scenario']} beats every shipped programme ({', '.join(shipped)}) on "
            f"adoption at the horizon{budget_text}, out of sample (paired 95% CIs exclude 0): "
            f"{best[f'{ADOPTION}_mean']:.1%} [{best[f'{ADOPTION}_ci_low']:.1%}, "
            f"{best[f'{ADOPTION}_ci_high']:.1%}]"
        )
    if designs.empty:
        return "no design was re-evaluated (the search found none that keeps the constraints)"
    best = designs.sort_values(f"{ADOPTION}_mean", ascending=False).iloc[0]
    missing = sorted(set(shipped) - set(str(best["beats"]).split(",")) - {""})
    why = []
    if missing:
        why.append(
            f"its adoption is not shown to exceed {', '.join(missing)} "
            "(the paired CI includes 0 or lies below it)"
        )
    if not bool(best["within_budget"]):
        why.append("its spend is not shown to stay within the budget")
    return (
        f"no design beats every shipped programme{budget_text} out of sample: the best, "
        f"{best['scenario']} ({best[f'{ADOPTION}_mean']:.1%}), " + "; ".join(why)
    )


def optimise(
    design: Design | str | Path,
    options: OptimiseOptions | None = None,
    *,
    progress: Progress | None = None,
    command_line: str | Sequence[str] | None = None,
    **changes: Any,
) -> OptimiseResult:
    """Search a design file's levers for the Pareto front of its objectives.

    Args:
        design: A Design or the path of a design file.
        options: How to run (``OptimiseOptions``).
        progress: Called as ``progress(phase, done, total)`` after each batch of runs.
        command_line: Recorded in the manifest.
        **changes: Fields of ``OptimiseOptions`` to set, e.g. ``executor="serial"``.

    Returns:
        OptimiseResult with the candidates, the out-of-sample front, the paired
        differences and the verdict; with ``[robustness]``, the regret tables across
        its draws (``robustness``, ``robustness_draws``) and their verdict.

    Raises:
        ScenarioError: The design file is invalid.
        ResultsError: ``out`` exists and is not resumable by this design.
        ExecutorError: The executor cannot be started.
    """
    import sys

    from pymoo.optimize import minimize

    d = design if isinstance(design, Design) else load_design(design)
    check_lever_domains(d)
    for start in d.spec.search.start:
        start_values(d, start)
    opts = dataclasses.replace(options or OptimiseOptions(), **changes)
    spec = d.spec
    search_spec = _search_spec(d, opts)
    holdout_n = opts.holdout_replications or spec.holdout.replications
    out = Path(opts.out) if opts.out is not None else None
    if out is not None:
        _prepare_out(out, d, opts.resume)
    handle = make_executor(
        opts.executor if opts.executor is not None else spec.executor, opts.workers
    )
    started = time.perf_counter()
    manifest: dict[str, Any] = {
        "kind": MANIFEST_KIND,
        "design": d.name,
        "design_hash": d.hash,
        "design_file": d.source_path,
        "spec": spec.model_dump(mode="json"),
        "search": search_spec.model_dump(mode="json"),
        "executor": handle.description,
        "command_line": command_line if command_line is not None else " ".join(sys.argv),
        "created_utc": now_utc(),
        "status": "running",
    }
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        previous = runstore.read_manifest(out)
        if previous:
            manifest["created_utc"] = previous.get("created_utc", manifest["created_utc"])
        runstore.atomic_json(manifest, out / runstore.MANIFEST_NAME)
    store = EvaluationStore(out).load()
    evaluator = Evaluator(store, handle, opts.batch, progress)
    try:
        budget = measure_budget(d, evaluator, search_spec.replications)
        search = DesignSearch(d, evaluator, budget, search_spec)
        name = algorithm_name(search_spec.algorithm, len(search.objectives))
        starts = [start_values(d, start) for start in search_spec.start]
        algorithm = make_algorithm(
            name, search_spec.population, len(search.objectives), search_spec.seed, starts
        )
        minimize(
            search.problem(),
            algorithm,
            ("n_gen", search_spec.generations),
            seed=search_spec.seed,
            verbose=False,
        )
        n_rep = int(search.replications or search_spec.replications)
        candidates = candidates_table(search, n_rep)
        # the stability of the final front, for the record
        cands = list(search.candidates.values())
        y, g = search.arrays(cands, store.summary(SEARCH), n_rep)
        final_s = front_stability(
            y, g, search_spec.bootstrap, np.random.default_rng([search_spec.seed, n_rep, 1])
        )
        search.stability.append({"stage": "final", "replications": n_rep, "stability": final_s})
        # the shipped programmes on the search's replicates (the in-sample figure)
        evaluator.evaluate(
            SEARCH,
            spec.root_seed,
            {s: d.shipped(s) for s in spec.holdout.compare},
            range(n_rep),
        )
        on_front = candidates[candidates["front"] & candidates["error"].eq("")]
        first = f"{next(iter(search.objectives))}_mean"
        pick = on_front.iloc[spread_pick(on_front[first].to_numpy(float), spec.holdout.max_designs)]
        chosen = [search.candidates[c] for c in pick["candidate"]]
        front, paired = _holdout_tables(d, search, evaluator, chosen, budget, holdout_n)
        robust = _robustness(d, evaluator, front, chosen)
    finally:
        if handle.owned:
            handle.executor.shutdown(wait=True)
    stability = pd.DataFrame(search.stability)
    phases = [
        store.summary(SEARCH).assign(phase=SEARCH),
        store.summary(HOLDOUT).assign(phase=HOLDOUT),
    ]
    if robust is not None:
        phases.append(robust[2].assign(phase=ROBUSTNESS))
    evaluations = pd.concat(phases, ignore_index=True)
    manifest.update(
        {
            "status": "complete",
            "completed_utc": now_utc(),
            "duration_s": time.perf_counter() - started,
            "algorithm": name,
            "replications": n_rep,
            "holdout_replications": holdout_n,
            "holdout_root_seed": spec.holdout_seed,
            "budget_per_year": budget,
            "n_candidates": len(candidates),
            "n_runs_this_call": evaluator.runs_done,
            "stability": search.stability,
            "verdict": verdict_sentence(front, budget, spec),
            "robustness": (
                robust[3]
                if robust is not None
                else "not evaluated: the design file has no [robustness] (docs/EXPERIMENTS.md 7.7)"
            ),
        }
    )
    if robust is not None:
        manifest["robustness_draws"] = d.draws.n
        manifest["robustness_replications"] = d.spec.robustness.replications
        manifest["robustness_root_seed"] = robustness_root_seed(d)
        manifest["robustness_parameters"] = list(d.draws.names)
    result = OptimiseResult(
        design=d,
        candidates=candidates,
        front=front,
        paired=paired,
        stability=stability,
        evaluations=evaluations,
        budget=budget,
        manifest=manifest,
        out=out,
        **({"robustness": robust[0], "robustness_draws": robust[1]} if robust is not None else {}),
    )
    if out is not None:
        save_tables(result, out)
    return result


def _robustness(
    design: Design, evaluator: Evaluator, front: pd.DataFrame, chosen: Sequence[Candidate]
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, str] | None:
    """The out-of-sample front's designs and the shipped programmes on the ``[robustness]``
    draws (None without it)."""
    if design.draws is None:
        return None
    by_id = {c.id: c.scenario for c in chosen}
    on_front = front.loc[(front["kind"] == "design") & front["front"], "scenario"]
    scenarios = {name: by_id[name] for name in on_front}
    scenarios |= {s: design.shipped(s) for s in design.spec.holdout.compare}
    kinds = {name: ("design" if name in by_id else "shipped") for name in scenarios}
    return evaluate_robustness(design, evaluator, scenarios, kinds)


TABLES = ("candidates", "front", "paired", "stability", "evaluations")
#: written when the design file has ``[robustness]``
ROBUSTNESS_TABLES = ("robustness", "robustness_draws")


def save_tables(result: OptimiseResult, out: Path) -> None:
    """Write every table and the manifest, each atomically."""
    names = TABLES + (ROBUSTNESS_TABLES if not result.robustness.empty else ())
    for name in names:
        runstore.atomic_parquet(getattr(result, name), out / f"{name}.parquet")
    runstore.atomic_json(result.manifest, out / runstore.MANIFEST_NAME)
