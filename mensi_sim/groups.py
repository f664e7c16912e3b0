"""Outcomes by group: by country, by region and by disadvantage band, per run.

Every per-run outcome of ``metrics.run_summary`` that belongs to schools is also computed
for each group of schools: each country, each region, and each band of the share of
disadvantaged pupils (``population.disadvantage_bands``). The rows have the summary's
column names, so a table of them is analysed like a summary (``analysis.groups``).

Cheap by construction: the only work in a step is one ``np.bincount`` of the adopting
schools over the finest cells (region x band), recorded by ``GroupTracker.record`` so that
each group's weeks to half adoption can be read off; everything else is computed once per
run from three snapshots of the state (week 0, the programme's end, the horizon).

How the groups add up to the pooled outcome (tests/test_groups.py checks each):

- counts (``n_schools``, ``adopters_*``, ``new_adopters``, ``members_*``, ``dropouts``)
  and money and hours (``cost_*``, ``total_*``, ``staff_hours``) sum to the pooled value;
- shares and means (``*_adoption_share``, ``*_mean_capacity``, ``capacity_gain``) average
  to it weighted by ``n_schools``; the adoption share among members weighted by
  ``members_final``, outside the network by ``n_schools - members_final``;
- ``*_per_participant_year`` averages to it weighted by ``members_end``;
  ``cost_per_adopting_school`` is ``total_cost / max(adopters_final, 1)`` of the group;
- ``weeks_to_half_adoption``, ``final_equity_gap`` and ``final_capacity_gini`` are the
  group's own (no simple relation to the pooled value).

Meetings are events between schools, often of several groups; they are not split.
Costs belong to the school they were booked to (a mentor's coordination to the mentor's
country, region and band).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mensi_sim.codes import CASH_CATEGORIES, COST_CATEGORIES
from mensi_sim.metrics import gini, weeks_to_share
from mensi_sim.population import Population
from mensi_sim.state import SchoolState

#: the groupings every run reports, in order
GROUPINGS = ("country", "region", "disadvantage")
#: the identifying columns of a group row (before scenario and replicate are added)
GROUP_KEY = ("by", "group", "country")


def band_labels(edges: list[float] | tuple[float, ...]) -> tuple[str, ...]:
    """Names of the disadvantage bands cut at ``edges``: ``"0-10%"``, ..., ``"30-100%"``."""
    bounds = [0.0, *edges, 1.0]
    return tuple(f"{100 * a:g}-{100 * b:g}%" for a, b in zip(bounds, bounds[1:], strict=False))


def disadvantage_band(share: np.ndarray, edges: list[float] | tuple[float, ...]) -> np.ndarray:
    """Band of each school: band i holds shares in ``[edges[i - 1], edges[i])`` (edges
    ascending; NaN in the last band).

    ``np.digitize(share, edges)``: the number of edges less than or equal to the share,
    counted as all edges less those above it, one comparison per edge (a million schools
    in 3 ms instead of digitize's 15 ms of binary searches).
    """
    share = np.asarray(share)
    band = np.full(share.shape, len(edges), dtype=np.int64)
    for edge in edges:
        band -= share < float(edge)
    return band


@dataclass(frozen=True)
class GroupKeys:
    """Which group of each grouping every school is in.

    Attributes:
        code: Per grouping, the group index of each school.
        labels: Per grouping, the label of each group index.
        country: Per grouping, the country code of each group ("" for bands, which span
            countries).
        cell: Each school's finest cell, ``region * n_bands + band``.
        cell_group: Per grouping, the group index of each cell.
    """

    code: dict[str, np.ndarray]
    labels: dict[str, tuple[str, ...]]
    country: dict[str, tuple[str, ...]]
    cell: np.ndarray
    cell_group: dict[str, np.ndarray]

    @property
    def n_cells(self) -> int:
        return int(self.cell_group["region"].size)


def group_keys(population: Population, edges: list[float] | tuple[float, ...]) -> GroupKeys:
    """The groups of a population: its countries, regions and disadvantage bands."""
    n_regions = max(population.n_regions, len(population.region_names))
    band = disadvantage_band(population.disadvantaged, edges)
    n_bands = len(edges) + 1
    region = population.region.astype(np.int64)
    region_country = np.zeros(n_regions, dtype=np.int64)
    region_country[population.region] = population.country
    codes = population.country_codes
    cells = np.arange(n_regions * n_bands)
    cell_region = cells // n_bands
    return GroupKeys(
        code={
            "country": population.country.astype(np.int64),
            "region": region,
            "disadvantage": band,
        },
        labels={
            "country": tuple(codes),
            "region": tuple(population.region_label(r) for r in range(n_regions)),
            "disadvantage": band_labels(edges),
        },
        country={
            "country": tuple(codes),
            "region": tuple(codes[int(c)] for c in region_country),
            "disadvantage": ("",) * n_bands,
        },
        cell=region * n_bands + band,
        cell_group={
            "country": region_country[cell_region],
            "region": cell_region,
            "disadvantage": cells % n_bands,
        },
    )


@dataclass(frozen=True)
class Snapshot:
    """The per-school state that group outcomes read, at one week."""

    adopted: np.ndarray
    capacity: np.ndarray
    member: np.ndarray
    active: np.ndarray
    cost: np.ndarray
    staff_hours: np.ndarray

    @classmethod
    def of(cls, state: SchoolState) -> Snapshot:
        """Copies of the state's arrays of the same names (later steps leave them alone;
        ``copy_of``)."""
        return cls(**{f.name: copy_of(getattr(state, f.name)) for f in dataclasses.fields(cls)})


def copy_of(values: np.ndarray) -> np.ndarray:
    """``values.copy()``; a fresh ``np.zeros`` of its shape and type when every bit of it
    is 0 (the costs and staff hours at week 0), whose pages the system maps only when
    written: copying a million schools' zero cost table paid 0.13 s of page faults, the
    bitwise check reads it in 2 ms."""
    size = values.dtype.itemsize
    if size in (1, 2, 4, 8) and not values.view(f"u{size}").any():
        return np.zeros(values.shape, values.dtype)
    return values.copy()


#: from this many schools on, ``GroupTracker.record`` updates last week's adopter counts
#: by the schools whose adoption changed (1.5 us against 6.6 us counting afresh at 120
#: schools, 13.6 against 8.9 at 5,000, 459 against 39 at 100,000)
INCREMENTAL_COUNTS_MIN = 5_000


class GroupTracker:
    """What a run must keep for its group outcomes: the adopters of each cell every
    recorded week, and the state at week 0 and at the programme's end.

    The programme's end is the row ``metrics.programme_end_row`` picks: week
    ``end_week`` when the run gets there, else the last week recorded, or week 0 when the
    programme never ran (``start_week`` at or after the horizon).
    """

    def __init__(self, keys: GroupKeys, start_week: int, end_week: int) -> None:
        self.keys = keys
        self._start, self._end_week = start_week, end_week
        self._counts: list[np.ndarray] = []
        self._adopted: np.ndarray | None = None  # the adopters the last counts are of
        self.initial: Snapshot | None = None
        self.end: Snapshot | None = None

    def record(self, week: int, state: SchoolState) -> None:
        """Record the state after ``week`` weeks (called once per recorded row).

        The adopters are counted per cell; from ``INCREMENTAL_COUNTS_MIN`` schools on,
        after the first week, the last counts are updated by the schools whose adoption
        changed instead (a few per week: 0.4 ms instead of 4 ms at a million schools; below
        a few thousand schools counting afresh is quicker), the same integers either way.
        """
        adopted = state.adopted
        last = self._adopted
        if adopted.size < INCREMENTAL_COUNTS_MIN or last is None or last.shape != adopted.shape:
            counts = np.bincount(self.keys.cell[adopted], minlength=self.keys.n_cells)
            if adopted.size >= INCREMENTAL_COUNTS_MIN:
                self._adopted = adopted.copy()
        else:
            changed = np.flatnonzero(adopted != last)
            counts = self._counts[-1]
            if changed.size:
                now = adopted[changed]
                cells = self.keys.cell[changed]
                size = self.keys.n_cells
                counts = (
                    counts
                    + np.bincount(cells[now], minlength=size)
                    - np.bincount(cells[~now], minlength=size)
                )
                last[changed] = now
        self._counts.append(counts)
        if week == 0:
            self.initial = Snapshot.of(state)
        if week == self._end_week:
            self.end = Snapshot.of(state)

    def adopters_by_week(self, by: str) -> np.ndarray:
        """(recorded weeks, groups) adopting schools of each group of grouping ``by``."""
        counts = np.vstack(self._counts)
        groups = self.keys.cell_group[by]
        out = np.zeros((counts.shape[0], len(self.keys.labels[by])), dtype=np.int64)
        np.add.at(out.T, groups, counts.T)
        return out

    def end_snapshot(self, final: Snapshot) -> Snapshot:
        """The state at the programme's end (see the class docstring)."""
        if self.end is not None:
            return self.end
        last_week = len(self._counts) - 1
        return final if last_week > self._start else self.initial


def _sums(code: np.ndarray, size: int, values: np.ndarray) -> np.ndarray:
    weights = values if values.dtype == np.float64 else values.astype(float)
    return np.bincount(code, weights=weights, minlength=size)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den``, 0 where ``den`` is 0 (the convention of ``metrics.share``)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), 0.0)


def _gap(code: np.ndarray, size: int, capacity: np.ndarray, dis: np.ndarray) -> np.ndarray:
    """Per group: mean capacity of the other schools minus that of the disadvantaged ones
    (0 when either is empty, as ``metrics.equity_gap``)."""
    k_dis = np.bincount(code[dis], minlength=size)
    k_oth = np.bincount(code[~dis], minlength=size)
    mean_dis = _ratio(_sums(code[dis], size, capacity[dis]), k_dis)
    mean_oth = _ratio(_sums(code[~dis], size, capacity[~dis]), k_oth)
    return np.where((k_dis > 0) & (k_oth > 0), mean_oth - mean_dis, 0.0)


def _ginis(code: np.ndarray, size: int, capacity: np.ndarray) -> np.ndarray:
    order = np.argsort(code, kind="stable")
    bounds = np.searchsorted(code[order], np.arange(size + 1))
    return np.array(
        [gini(capacity[order[bounds[g] : bounds[g + 1]]]) for g in range(size)], dtype=float
    )


_CASH = np.array([COST_CATEGORIES.index(c) for c in CASH_CATEGORIES])


def group_outcomes(
    tracker: GroupTracker,
    final: Snapshot,
    disadvantaged: np.ndarray,
    programme_years: float | np.ndarray,
    leading: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """One row per group of every grouping (``GROUPINGS``) with the run's outcomes.

    Args:
        tracker: The run's ``GroupTracker`` (every row recorded).
        final: The state at the horizon.
        disadvantaged: Whether each school counts as disadvantaged for the equity gap.
        programme_years: The programme's length within the run, in years: one number,
            or one per school (a staged roll-out: the years of the window it follows).
        leading: Constant columns to put first (a run's scenario and replicate).

    Returns:
        Columns ``by``, ``group``, ``country``, ``n_schools`` and the outcomes (the
        module docstring says how they add up to the pooled ones); groups without schools
        are left out.
    """
    keys, initial = tracker.keys, tracker.initial
    end = tracker.end_snapshot(final)
    # the groupings' columns are gathered and made into one DataFrame at the end: a
    # DataFrame per grouping and their concatenation cost half the time of a pilot's
    # group outcomes (about 3 of 6 ms a run)
    columns: dict[str, list[np.ndarray]] = {}
    for by in GROUPINGS:
        code, size = keys.code[by], len(keys.labels[by])
        n = np.bincount(code, minlength=size)
        adopters = {
            when: np.bincount(code[snap.adopted], minlength=size)
            for when, snap in (("initial", initial), ("end", end), ("final", final))
        }
        members_final = np.bincount(code[final.member], minlength=size)
        members_end = np.bincount(code[end.member], minlength=size)
        inside = np.bincount(code[final.adopted & final.member], minlength=size)
        cap = {
            when: _ratio(_sums(code, size, snap.capacity), n)
            for when, snap in (("initial", initial), ("end", end), ("final", final))
        }
        series = tracker.adopters_by_week(by)
        share_by_week = _ratio(series, n[None, :])
        half = [weeks_to_share(share_by_week[:, g]) for g in range(size)]
        cost_final = np.column_stack(
            [_sums(code, size, final.cost[:, k]) for k in range(len(COST_CATEGORIES))]
        )
        cost_end_total = _sums(code, size, end.cost.sum(axis=1))
        cash_end = _sums(code, size, end.cost[:, _CASH].sum(axis=1))
        hours_end = _sums(code, size, end.staff_hours)
        if np.ndim(programme_years):  # participant-years: each member's own years
            per_year = _sums(code, size, np.where(end.member, programme_years, 0.0))
        else:
            per_year = members_end * programme_years
        total_cost = cost_final.sum(axis=1)
        row = {
            "by": np.full(size, by, dtype=object),
            "group": np.asarray(keys.labels[by], dtype=object),
            "country": np.asarray(keys.country[by], dtype=object),
            "n_schools": n,
            "final_adoption_share": _ratio(adopters["final"], n),
            "final_adoption_share_members": _ratio(inside, members_final),
            "final_adoption_share_outside": _ratio(adopters["final"] - inside, n - members_final),
            "end_adoption_share": _ratio(adopters["end"], n),
            "weeks_to_half_adoption": np.array([h[0] for h in half], dtype=float),
            "half_adoption_reached": np.array([h[1] for h in half], dtype=bool),
            "initial_mean_capacity": cap["initial"],
            "final_mean_capacity": cap["final"],
            "capacity_gain": cap["final"] - cap["initial"],
            "end_capacity_gain": cap["end"] - cap["initial"],
            "final_equity_gap": _gap(code, size, final.capacity, disadvantaged),
            "final_capacity_gini": _ginis(code, size, final.capacity),
            "adopters_initial": adopters["initial"],
            "adopters_final": adopters["final"],
            "adopters_end": adopters["end"],
            "new_adopters": adopters["final"] - adopters["initial"],
            "dropouts": np.bincount(code[~final.active], minlength=size),
            "members_final": members_final,
            "members_end": members_end,
        }
        for k, category in enumerate(COST_CATEGORIES):
            row[f"cost_{category}"] = cost_final[:, k]
        row["total_cash"] = cost_final[:, _CASH].sum(axis=1)
        row["total_staff_time"] = cost_final[:, COST_CATEGORIES.index("staff_time")]
        row["total_cost"] = total_cost
        row["staff_hours"] = _sums(code, size, final.staff_hours)
        row["cost_per_adopting_school"] = total_cost / np.maximum(adopters["final"], 1)
        row["cost_per_participant_year"] = _ratio(cost_end_total, per_year)
        row["cash_per_participant_year"] = _ratio(cash_end, per_year)
        row["staff_hours_per_participant_year"] = _ratio(hours_end, per_year)
        present = n > 0
        for name, values in row.items():
            columns.setdefault(name, []).append(values[present])
    return pd.DataFrame(
        {**(leading or {}), **{name: np.concatenate(parts) for name, parts in columns.items()}}
    )
