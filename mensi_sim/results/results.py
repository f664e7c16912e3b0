"""The one results object: ``Results``.

``simulate()`` and ``sweep()`` return one, ``Results.load(folder)`` reads one back from
a results directory and ``.save(folder)`` writes one, atomically. It holds the three
tables of every run (``timeseries``, ``summary``, ``runs``), the same outcomes by country,
region and disadvantage band (``group_summary``), the ``manifest``, and the tables
analyses added (``tables``: comparison, sensitivity, budget, group_comparison).

Comparisons, sensitivity indices and the quick figure hang off it: ``.comparison()``,
``.group_comparison()``, ``.headline_by()``, ``.sensitivity()`` and ``.plot()`` call the
floors above this one (``mensi_sim.analysis``, ``mensi_sim.plotting``) through a deferred
import; they are the only calls upward in the package, listed in tests/test_layers.py. A
stored table is read, never computed again; a computed one is kept, so the figures and the
report share it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from mensi_sim.errors import ResultsError
from mensi_sim.experiments.manifest import build_manifest
from mensi_sim.experiments.runstore import FRAME_NAMES, GROUP_TABLE, KEY
from mensi_sim.experiments.spec import resolve_baseline
from mensi_sim.metrics import SUMMARY_OUTCOMES
from mensi_sim.results import rebuild
from mensi_sim.results.display import (
    formatted_headline,
    mark_censored,
    reading_weeks,
    results_html,
)
from mensi_sim.results.store import OPTIONAL_TABLES, read_folder, read_table, write_results
from mensi_sim.results.store import write_table as _write_table
from mensi_sim.stats import describe_outcomes

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from mensi_sim.experiments.adaptive import AdaptiveStatus
    from mensi_sim.experiments.runner import SweepOutput
    from mensi_sim.experiments.spec import Experiment
    from mensi_sim.model import MentoringModel
    from mensi_sim.scenario.schema import Scenario

HEADLINE_COLUMNS = ["scenario", "outcome", "label", "mean", "ci_low", "ci_high", "n", "formatted"]


class Results:
    """Results of replicate runs: of one scenario (``simulate``) or an experiment (``sweep``).

    Attributes:
        timeseries: One row per (scenario, replicate, step), a column per metric.
        summary: One row per successful (scenario, replicate), a column per outcome.
        runs: One row per run: seed, scenario hash, status, error, duration (a sweep:
            also the design point and its parameters).
        path: The results directory it was loaded from or saved to (None in memory).
        group_summary: One row per (scenario, replicate, grouping, group): the summary's
            outcomes by country, region and disadvantage band (``mensi_sim.groups``;
            empty for results made before it existed).
        tables: Tables analyses added, by name (``comparison``, ``sensitivity``,
            ``budget``), saved as ``<name>.parquet``.
        adaptive: A sweep with adaptive replications: where each scenario stopped.
        notes: Why something could not be used (a damaged table, a comparison that
            cannot be computed), one line each.
    """

    def __init__(
        self,
        timeseries: pd.DataFrame,
        summary: pd.DataFrame,
        runs: pd.DataFrame,
        manifest: Mapping[str, Any] | None = None,
        *,
        scenario: Scenario | None = None,
        seed: int | None = None,
        experiment: Experiment | None = None,
        path: str | Path | None = None,
        tables: Mapping[str, pd.DataFrame] | None = None,
        group_summary: pd.DataFrame | None = None,
        adaptive: Mapping[str, AdaptiveStatus] | None = None,
        notes: Sequence[str] | None = None,
        command_line: str | Sequence[str] | None = None,
    ) -> None:
        """Results from their tables.

        Args:
            timeseries, summary, runs: The three tables.
            manifest: The manifest; without it, ``scenario`` and ``seed`` are needed and
                the manifest is built when first asked for (``build_manifest``).
            scenario: The scenario simulated (``simulate``).
            seed: The root seed (default: the manifest's).
            experiment: The experiment of a sweep (default: rebuilt from the manifest).
            path: Where the results directory is.
            tables: Further tables (comparison, sensitivity, budget, group_comparison).
            group_summary: The outcomes by group (``mensi_sim.groups``).
            adaptive: The adaptive rule's status per scenario.
            notes: Notes so far.
            command_line: Recorded in the manifest built on demand (default: sys.argv).
        """
        if manifest is None and scenario is None:
            raise ValueError("Results: give a manifest or the scenario to build one from")
        self.timeseries = timeseries
        self.summary = summary
        self.runs = runs
        self.path = Path(path) if path is not None else None
        self.tables: dict[str, pd.DataFrame] = dict(tables or {})
        self.group_summary = group_summary if group_summary is not None else pd.DataFrame()
        self.adaptive: dict[str, AdaptiveStatus] = dict(adaptive or {})
        self.notes: list[str] = list(notes or [])
        self._manifest = dict(manifest) if manifest is not None else None
        self._scenario = scenario
        self._seed = seed
        self._experiment = experiment
        self._command_line = command_line
        self._comparisons: dict[tuple[str, float], pd.DataFrame] = {}
        self._group_comparisons: dict[tuple[str, str, float], pd.DataFrame] = {}
        self._tried: tuple[pd.DataFrame | None, str] | None = None
        self._sources: dict[str | None, rebuild.ReplaySource] = {}

    # --- making, saving, loading ---------------------------------------------------

    @classmethod
    def load(cls, folder: str | Path) -> Results:
        """Read a results directory (of ``run``, ``sweep``, ``compare``, ``sensitivity``).

        Raises:
            ResultsError: One line naming the directory and what is missing or broken.
        """
        d = Path(folder)
        frames, manifest = read_folder(d)
        notes: list[str] = []
        tables = {}
        for name in OPTIONAL_TABLES:
            table = read_table(d / f"{name}.parquet", notes)
            if table is not None:
                tables[name] = table
        groups = read_table(d / f"{GROUP_TABLE}.parquet", notes)
        return cls(
            **frames,
            manifest=manifest,
            path=d,
            tables=tables,
            group_summary=groups,
            notes=notes,
        )

    @classmethod
    def from_sweep(cls, output: SweepOutput) -> Results:
        """The Results of a sweep from what the runner returned."""
        frames = {k: v for k, v in output.tables.items() if k in FRAME_NAMES}
        return cls(
            **frames,
            group_summary=output.tables.get(GROUP_TABLE),
            manifest=output.manifest,
            experiment=output.experiment,
            path=output.out,
            adaptive=output.adaptive,
            notes=output.notes,
        )

    def save(
        self,
        folder: str | Path,
        *,
        overwrite: bool = False,
        add_files: Callable[[Path], None] | None = None,
    ) -> Path:
        """Write the results directory atomically (all files or none) and return its path.

        Args:
            folder: The directory to create.
            overwrite: Replace an existing results directory (never another folder).
            add_files: Called with the temporary directory before it is renamed into
                place, to add files (e.g. plots) that must land with the results.

        Raises:
            ResultsError: ``folder`` exists and may not be replaced.
        """
        written = write_results(
            self,
            folder,
            manifest=self.manifest,
            overwrite=overwrite,
            add_files=add_files,
            tables={**self.tables, **self._group_table()},
        )
        self.path = written
        return written

    def _group_table(self) -> dict[str, pd.DataFrame]:
        return {GROUP_TABLE: self.group_summary} if len(self.group_summary) else {}

    def write_table(self, name: str, frame: pd.DataFrame) -> Path:
        """Add a table to the results and write it into the results directory, atomically."""
        if self.path is None:
            raise ResultsError(f"{name}: the results are not in a folder (save them first)")
        written = _write_table(frame, self.path, name)
        self.tables[name] = frame
        self._group_comparisons.clear()
        if name == "comparison":
            self._tried = None
        return written

    # --- what was run --------------------------------------------------------------

    @property
    def manifest(self) -> dict[str, Any]:
        """What ran, with which code, seed and parameters (``manifest.json``)."""
        if self._manifest is None:
            manifest = build_manifest(
                self._scenario,
                root_seed=int(self.seed),
                command_line=self._command_line,
                executor="serial",
                replications=len(self.runs),
            )
            if "steps" in self.runs.columns and len(self.runs):
                manifest["steps"] = int(self.runs["steps"].iloc[0])
            self._manifest = manifest
        return self._manifest

    @property
    def seed(self) -> int:
        """The root seed: replicate r used ``replicate_seed(seed, r)``."""
        if self._seed is not None:
            return int(self._seed)
        return int(self.manifest["root_seed"])

    @property
    def is_sweep(self) -> bool:
        """Whether these are the results of an experiment (a sweep)."""
        if self._experiment is not None:
            return True
        return self._manifest is not None and self._manifest.get("kind") == "experiment"

    @property
    def is_psa(self) -> bool:
        """A probabilistic sensitivity analysis: options run on parameter draws."""
        return self.is_sweep and bool(self.manifest.get("psa"))

    def psa_design(self) -> pd.DataFrame:
        """A PSA's points: ``scenario`` (point name), ``option``, ``draw`` (empty otherwise)."""
        entries = [e for e in self.manifest.get("scenarios", []) if e.get("option") is not None]
        return pd.DataFrame(
            {
                "scenario": [e["name"] for e in entries],
                "option": [e["option"] for e in entries],
                "draw": [int(e["draw"]) for e in entries],
            }
        )

    def psa_draws(self) -> pd.DataFrame:
        """A PSA's parameter draws from the manifest: ``draw``, a column per parameter, and
        the ``dummy`` parameter (drawn, applied to nothing)."""
        info = self.manifest.get("psa") or {}
        names = list(info.get("parameters", []))
        entries = [e for e in self.manifest.get("scenarios", []) if e.get("option") is not None]
        first = entries[0]["option"] if entries else None
        rows = [
            {"draw": int(e["draw"]), **{n: e["overrides"][n] for n in names}}
            for e in entries
            if e["option"] == first
        ]
        frame = pd.DataFrame(rows, columns=["draw", *names])
        dummy = info.get("dummy")
        if dummy is not None and len(dummy) == len(frame):
            frame["dummy"] = [dummy[int(d)] for d in frame["draw"]]
        return frame

    def psa(
        self,
        baseline: str | None = None,
        *,
        wtp: float | None = None,
        perspective: str = "total",
    ) -> dict[str, pd.DataFrame]:
        """A PSA's tables (``analysis.psa.psa_analysis``): ``psa`` (per option: net benefit,
        P(best), P(frontier)), ``ceac`` (acceptability curves, frontier, EVPI by wtp) and
        ``evppi`` (per parameter group). The stored tables when no option is asked for.

        Raises:
            ResultsError: Not a PSA, or no such baseline.
        """
        if not self.is_psa:
            raise ResultsError("not a PSA: the experiment has no [uncertainty] draws")
        names = ("psa", "ceac", "evppi")
        if baseline is None and wtp is None and perspective == "total":
            if all(n in self.tables for n in names):
                return {n: self.tables[n] for n in names}
        info = self.manifest["psa"]
        options = list(info.get("options", []))
        want = baseline if baseline is not None else self._recorded_baseline()
        try:
            base = resolve_baseline(options, want)
        except KeyError:
            raise ResultsError(f"no option {want!r} in the PSA ({', '.join(options)})") from None
        from mensi_sim.analysis.psa import psa_analysis  # upward: see module doc

        return psa_analysis(
            self.summary,
            self.psa_design(),
            self.psa_draws(),
            base,
            wtp=float(wtp if wtp is not None else info.get("wtp", 100_000.0)),
            wtp_max=info.get("wtp_max"),
            groups=info.get("groups") or {},
            perspective=perspective,
        )

    @property
    def is_sample_design(self) -> bool:
        """A sweep over sampled parameter points (Morris, Sobol, LHS)."""
        return self.is_sweep and rebuild.is_sample_design(self.manifest)

    @property
    def experiment(self) -> Experiment | None:
        """The experiment of a sweep (rebuilt from the manifest if need be); None for a run.

        Raises:
            ResultsError: The experiment file or its base scenario is gone.
        """
        if self._experiment is None and self.is_sweep:
            self._experiment = rebuild.experiment_from_manifest(self.manifest)
        return self._experiment

    @property
    def scenario(self) -> Scenario:
        """The scenario simulated; of a sweep, its base scenario (rebuilt if need be).

        Raises:
            ResultsError: It cannot be rebuilt from the manifest.
        """
        if self._scenario is None:
            self._scenario = (
                self.experiment.base
                if self.is_sweep
                else rebuild.scenario_from_manifest(self.manifest)
            )
        return self._scenario

    @property
    def scenarios(self) -> list[str]:
        """The scenario names, in design order."""
        frame = self.summary if not self.summary.empty else self.runs
        if frame.empty or "scenario" not in frame.columns:
            return []
        return list(dict.fromkeys(frame["scenario"].astype(str)))

    @property
    def outcomes(self) -> tuple[str, ...]:
        """The outcomes of interest: the experiment's, else the headline outcomes."""
        if self._experiment is not None:
            return tuple(self._experiment.spec.outcomes)
        if self.is_sweep and self.manifest.get("outcomes"):
            return tuple(self.manifest["outcomes"])
        return SUMMARY_OUTCOMES

    @property
    def failures(self) -> pd.DataFrame:
        """The run records of the runs that failed."""
        if self.runs.empty:
            return self.runs
        return self.runs[self.runs["status"] != "ok"]

    @property
    def groups(self) -> dict[str, str]:
        """Each scenario's group at a fixed budget (the manifest's group, else structure)."""
        return {
            e["name"]: str(e.get("group") if e.get("group") is not None else e.get("structure"))
            for e in (self.manifest.get("scenarios", []) if self.is_sweep else [])
        }

    # --- summaries -----------------------------------------------------------------

    def headline(self, outcomes: Sequence[str] | None = None, level: float = 0.95) -> pd.DataFrame:
        """Mean and confidence interval of the outcomes of interest per scenario (long format).

        One row per (scenario, outcome): its ``label``, the numbers ``mean``, ``ci_low``,
        ``ci_high`` (Student t over the replicates; NaN with one replicate, where no spread
        can be estimated) and ``n``, and ``formatted``, the value as the command line shows
        it (``25.0% [23.7%, 26.3%]``; weeks to 50% adoption ``> 156 (not reached)``
        where no run got there, ``≥`` before the mean where some did not: a censored run
        counts the run length, ``display.censored_mean``).
        """
        outcomes = tuple(outcomes or self.outcomes)
        if self.summary.empty:
            return pd.DataFrame(columns=HEADLINE_COLUMNS)
        head = formatted_headline(
            describe_outcomes(self.summary, outcomes, level=level), reading_weeks(self.timeseries)
        )
        return mark_censored(head, self.summary)

    def to_df(self, kind: str = "runs") -> pd.DataFrame:
        """One table as a DataFrame (a copy).

        Args:
            kind: ``"runs"``: a row per run, its record and its outcomes side by side
                (outcomes missing for a failed run); ``"summary"``, ``"timeseries"``,
                ``"group_summary"``, or
                the name of one of ``tables``.
        """
        if kind == "runs":
            if self.summary.empty:
                return self.runs.copy()
            shared = [c for c in self.summary.columns if c in self.runs.columns]
            outcomes = self.summary.drop(columns=[c for c in shared if c not in KEY])
            return self.runs.merge(outcomes, on=KEY, how="left")
        if kind in ("summary", "timeseries", GROUP_TABLE):
            return getattr(self, kind).copy()
        if kind in self.tables:
            return self.tables[kind].copy()
        allowed = ", ".join(["runs", "summary", "timeseries", GROUP_TABLE, *self.tables])
        raise ValueError(f"to_df: unknown table {kind!r} (allowed: {allowed})")

    # --- comparisons ---------------------------------------------------------------

    def _stored_comparison(self) -> pd.DataFrame | None:
        table = self.tables.get("comparison")
        return table if table is not None and not table.empty else None

    def _recorded_baseline(self) -> str | None:
        if self._experiment is not None:
            return self._experiment.spec.baseline
        return self.manifest.get("baseline") if self.is_sweep else None

    def baseline_for(self, wanted: str | None = None) -> str:
        """The baseline to compare against: ``wanted``, else the experiment's, else the rule
        of ``experiments.spec.resolve_baseline`` (a scenario named none/baseline, else the
        first).

        Raises:
            ResultsError: ``wanted`` (or the experiment's baseline) is not a scenario of
                the results (or a PSA's option), or there is no scenario. Its message lists
                the first 12 names, then "... and N more of M", and when the name is a part
                of some (``top_down`` of ``top_down/none``) or close to one (a typo), asks
                "did you mean ...?".
        """
        import difflib

        names = self.scenarios
        if not names:
            raise ResultsError("no successful runs to compare")
        if self.is_psa:
            names = list(self.manifest["psa"].get("options", names))
        want = wanted if wanted is not None else self._recorded_baseline()
        try:
            return resolve_baseline(names, want)
        except KeyError:
            pass
        where = self.path if self.path is not None else "the results"
        # a part of a name: the one whose other parts say "nothing" first (top_down/none)
        parts = [n for n in names if str(want) in n.split("/")]
        plain = [
            n for n in parts if all(p in ("none", "baseline") for p in n.split("/") if p != want)
        ]
        near = plain or parts or difflib.get_close_matches(str(want), names, n=3)
        hint = f"; did you mean {' or '.join(near[:3])}?" if near else ""
        listed = 12  # names before "... and N more"
        shown = ", ".join(names[:listed])
        if len(names) > listed:
            what = "options" if self.is_psa else "scenarios"
            shown += f", ... and {len(names) - listed} more of {len(names)} {what}"
        raise ResultsError(f"no scenario {want!r} in {where}{hint} ({shown})")

    @property
    def baseline(self) -> str | None:
        """The baseline of the comparisons shown: the stored comparison's (``compare``),
        else the experiment's, else the rule; None without scenarios."""
        stored = self._stored_comparison()
        if stored is not None and "baseline" in stored.columns:
            return str(stored["baseline"].iloc[0])
        names = self.scenarios
        if not names:
            return None
        recorded = self._recorded_baseline()
        return resolve_baseline(names, recorded if recorded in names else None)

    def comparison(self, baseline: str | None = None, level: float = 0.95) -> pd.DataFrame:
        """Paired differences and cost-effectiveness against the baseline, one row per scenario.

        The stored ``comparison`` table when it was made against that baseline, else
        ``analysis.comparison_table`` of the summary (kept for the next call).

        Raises:
            ResultsError: Fewer than two scenarios, or no such baseline.
        """
        base = self.baseline if baseline is None else self.baseline_for(baseline)
        if base is None:
            raise ResultsError("no successful runs to compare")
        if len(self.scenarios) < 2:
            raise ResultsError("one scenario only; nothing to compare")
        stored = self._stored_comparison()
        if (
            stored is not None
            and level == 0.95
            and "baseline" in stored.columns
            and str(stored["baseline"].iloc[0]) == base
        ):
            return stored
        key = (base, level)
        if key not in self._comparisons:
            from mensi_sim.analysis.comparison import comparison_table  # upward: see module doc

            self._comparisons[key] = comparison_table(self.summary, base, level=level)
        return self._comparisons[key]

    def headline_by(
        self, by: str = "country", outcomes: Sequence[str] | None = None, level: float = 0.95
    ) -> pd.DataFrame:
        """Mean and interval of the outcomes of interest per scenario and group of ``by``
        (``"country"``, ``"region"`` or ``"disadvantage"``), long format.

        Raises:
            ValueError: ``by`` is not a grouping, or there are no outcomes by group.
        """
        from mensi_sim.analysis.groups import group_headline  # upward: see module doc

        outcomes = tuple(outcomes or self.outcomes)
        return group_headline(self.group_summary, by, outcomes, level=level)

    def group_comparison(
        self, by: str = "country", baseline: str | None = None, level: float = 0.95
    ) -> pd.DataFrame:
        """``comparison()`` within every group of ``by``: one row per (group, scenario).

        The stored ``group_comparison`` table (``compare --by``) when it was made by that
        grouping against that baseline, else ``analysis.groups.group_comparison``.

        Raises:
            ResultsError: Fewer than two scenarios, or no such baseline.
            ValueError: ``by`` is not a grouping, or there are no outcomes by group.
        """
        base = self.baseline if baseline is None else self.baseline_for(baseline)
        if base is None or len(self.scenarios) < 2:
            raise ResultsError("fewer than two scenarios; nothing to compare")
        stored = self.tables.get("group_comparison")
        if (
            stored is not None
            and len(stored)
            and level == 0.95
            and set(stored["by"]) == {by}
            and str(stored["baseline"].iloc[0]) == base
        ):
            return stored
        key = (by, base, level)
        if key not in self._group_comparisons:
            from mensi_sim.analysis.groups import group_comparison  # upward: see module doc

            self._group_comparisons[key] = group_comparison(
                self.group_summary, base, by=by, level=level
            )
        return self._group_comparisons[key]

    def try_comparison(self) -> pd.DataFrame | None:
        """The comparison the figures and the report show, or None (the reason in ``notes``).

        The stored table; else, for several named scenarios with at least two
        replicates, ``comparison()`` against ``baseline``.
        """
        if self._tried is None:
            self._tried = self._first_comparison()
        return self._tried[0]

    def _first_comparison(self) -> tuple[pd.DataFrame | None, str]:
        stored = self._stored_comparison()
        if stored is not None:
            return stored, "file"
        if len(self.scenarios) < 2 or self.is_sample_design or self.is_psa:
            return None, ""
        if self.baseline is None or self.summary["replicate"].nunique() < 2:
            self.notes.append("comparison: fewer than 2 replicates; no paired intervals")
            return None, ""
        try:
            return self.comparison(), "computed"
        except (KeyError, ValueError, ZeroDivisionError, ResultsError) as exc:
            self.notes.append(f"comparison: cannot compute ({' '.join(str(exc).split())})")
            return None, ""

    @property
    def comparison_source(self) -> str:
        """Where ``try_comparison`` took its table from: ``"file"``, ``"computed"`` or ``""``."""
        self.try_comparison()
        return self._tried[1] if self._tried is not None else ""

    def sensitivity(self, outcomes: Sequence[str] | None = None) -> pd.DataFrame:
        """Morris and Sobol indices of a sweep's samples (long format; warnings go to notes).

        The stored ``sensitivity`` table when no outcomes are asked for, else
        ``analysis.experiment_sensitivity`` of the summary.

        Raises:
            ResultsError: Not a sweep, or its experiment cannot be rebuilt.
        """
        stored = self.tables.get("sensitivity")
        if stored is not None and outcomes is None:
            return stored
        experiment = self.experiment
        if experiment is None:
            raise ResultsError("not a sweep: no sample to analyse")
        from mensi_sim.analysis.sensitivity import experiment_sensitivity  # upward: module doc

        table, notes = experiment_sensitivity(experiment, self.summary, outcomes)
        self.notes.extend(notes)
        return table

    # --- re-creating a run ---------------------------------------------------------

    def replay_source(self, name: str | None = None) -> rebuild.ReplaySource:
        """The scenario and root seed of scenario ``name`` (default: the one to picture).

        Raises:
            ResultsError: One line saying why the run cannot be re-created.
        """
        if name not in self._sources:
            if self._scenario is not None and not self.is_sweep:  # simulate(), in memory
                if name is not None and name != self._scenario.name:
                    raise ResultsError(
                        f"no scenario {name!r} in the results ({self._scenario.name})"
                    )
                source = rebuild.ReplaySource(self._scenario, self.seed, self._scenario.name)
            elif self.is_sweep:
                source = rebuild.replay_source(self.manifest, name, self.experiment)
            else:
                source = rebuild.replay_source(self.manifest, name)
            self._sources[name] = source
        return self._sources[name]

    def model(self, name: str | None = None, replicate: int = 0) -> MentoringModel:
        """A fresh model (week 0) of replicate ``replicate`` of scenario ``name``.

        Built by ``experiments.replicate.replicate_model``, the one entry point, so it is
        the recorded run bit for bit.
        """
        from mensi_sim.experiments.replicate import replicate_model  # imports the model

        source = self.replay_source(name)
        return replicate_model(source.scenario, source.root_seed, replicate)

    def schools(self, name: str | None = None, replicate: int = 0) -> pd.DataFrame:
        """The schools of replicate ``replicate`` of scenario ``name``, one row each: id (a
        roster's ids), country, region, attributes, and role and cluster at week 0
        (``MentoringModel.schools`` of the re-created run)."""
        return self.model(name, replicate).schools()

    # --- figure --------------------------------------------------------------------

    def plot(self) -> Figure:
        """Adoption and cost over time (a matplotlib Figure)."""
        from mensi_sim.plotting.timeseries import plot_adoption_and_cost  # upward: module doc

        return plot_adoption_and_cost(self.timeseries)

    def _repr_html_(self) -> str:
        """A compact table in a notebook: what ran, and the headline with 95% CIs."""
        return results_html(self)

    def __repr__(self) -> str:
        if self.is_sweep:
            what = f"experiment {self.manifest.get('experiment')!r}"
        else:
            name = self._scenario.name if self._scenario is not None else self.manifest["scenario"]
            what = f"scenario {name!r}"
        where = f", in {self.path}" if self.path is not None else ""
        return (
            f"Results({what}: {len(self.scenarios)} scenario(s), {len(self.runs)} runs, "
            f"{len(self.failures)} failed{where})"
        )
