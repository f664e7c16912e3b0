"""The schools: country, region, coordinates, size, disadvantage, capacity.

``generate_population`` is a pure function of the population parameters and a random
generator: the same schools under every structure (the "same world" principle). With a
roster (``population.roster``) ``roster_population`` takes the schools from it and draws,
in the same way and from the same stream, only the attributes it does not give. Roles are
not set here: a network builder *chooses* mentors and mentees among these schools (by
capacity, opt-in, volunteering, ...), and being chosen never changes a school's attributes.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from mensi_sim.scenario.roster import Roster
from mensi_sim.scenario.schema import PopulationParams


@dataclass(frozen=True)
class Population:
    """Static attributes of n schools, one array entry per school (index = school id)."""

    country: np.ndarray  # int32 index into country_codes
    country_codes: tuple[str, ...]
    region: np.ndarray  # int32 global region id (country-major)
    x: np.ndarray  # km
    y: np.ndarray  # km
    teachers: np.ndarray  # float64, teachers per school
    disadvantaged: np.ndarray  # share of disadvantaged students in [0, 1]
    motivation: np.ndarray  # latent motivation in [0, 1] (bottom-up opt-in, engagement spread)
    advanced: np.ndarray  # bool: one of the region's digitally advanced schools
    capacity: np.ndarray  # initial capacity in [0, 1], whatever role the school is given
    region_names: tuple[str, ...] = ()  # label of each region id (a roster's region names)
    school_ids: np.ndarray | None = None  # str: a roster's school ids (None: "0" .. "n-1")
    mentor_hint: np.ndarray | None = None  # int8: 1 volunteers to mentor, -1 will not, 0 none
    drawn: tuple[tuple[str, int], ...] = ()  # a roster: (attribute, schools it was drawn for)

    @property
    def n(self) -> int:
        """Number of schools."""
        return int(self.country.size)

    @property
    def n_regions(self) -> int:
        """Number of regions (ids are 0 .. n_regions - 1)."""
        return int(self.region.max()) + 1 if self.n else 0

    @property
    def ids(self) -> np.ndarray:
        """The school ids as strings: a roster's ids, else ``"0" .. "n-1"``."""
        if self.school_ids is not None:
            return self.school_ids
        return np.arange(self.n).astype(str).astype(object)

    @property
    def hints(self) -> np.ndarray:
        """``mentor_hint``, all 0 (no hint) when the population has none."""
        if self.mentor_hint is not None:
            return self.mentor_hint
        return np.zeros(self.n, dtype=np.int8)

    def region_label(self, region: int) -> str:
        """The name of region id ``region`` (``"R<id>"`` when the population has none)."""
        if 0 <= region < len(self.region_names):
            return self.region_names[region]
        return f"R{region}"


def split_counts(total: int, weights: np.ndarray) -> np.ndarray:
    """Split ``total`` into integer parts proportional to ``weights`` (largest remainder)."""
    w = np.asarray(weights, dtype=float)
    exact = total * w / w.sum()
    base = np.floor(exact).astype(np.int64)
    short = total - int(base.sum())
    if short:
        order = np.argsort(-(exact - base), kind="stable")
        base[order[:short]] += 1
    return base


#: smallest sd beta_params uses (see there)
MIN_BETA_SD = 1e-6


def beta_params(mean: np.ndarray | float, sd: float) -> tuple[np.ndarray, np.ndarray]:
    """Beta(a, b) shape parameters with the given mean and standard deviation.

    An sd below ``MIN_BETA_SD`` counts as ``MIN_BETA_SD``: the draws are then the mean to
    within about 1e-6, and the shape parameters stay finite (a smaller sd, which the schema
    allows, would make them infinite and every draw NaN).
    """
    mean = np.clip(np.asarray(mean, dtype=float), 1e-3, 1 - 1e-3)
    var = min(max(sd, MIN_BETA_SD) ** 2, float(np.min(mean * (1 - mean))) * 0.999)
    common = mean * (1 - mean) / var - 1
    return mean * common, (1 - mean) * common


def synthetic_layout(params: PopulationParams) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Countries and regions of ``n_schools`` generated schools, and the region names.

    Schools are split over countries by ``country_weights`` and evenly over each
    country's regions (school j of a country goes to its region j mod r). Region ids are
    country-major, ``country * regions_per_country + local region``, and region
    ``local`` of country ``code`` is named ``"<code>-<local + 1>"``.
    """
    n = params.n_schools
    n_c = len(params.countries)
    weights = np.ones(n_c) if params.country_weights is None else np.array(params.country_weights)
    per_country = split_counts(n, weights)
    country = np.repeat(np.arange(n_c, dtype=np.int32), per_country)
    r = params.regions_per_country
    rank_in_country = np.arange(n) - np.repeat(np.cumsum(per_country) - per_country, per_country)
    local_region = (rank_in_country % r).astype(np.int32)
    region = (country * r + local_region).astype(np.int32)
    names = tuple(f"{code}-{local + 1}" for code in params.countries for local in range(r))
    return country, region, names


def generate_population(params: PopulationParams, rng: np.random.Generator) -> Population:
    """Draw n schools over countries and regions.

    The countries and regions come from :func:`synthetic_layout`; every other attribute
    is drawn by :func:`draw_schools`.
    """
    country, region, names = synthetic_layout(params)
    return draw_schools(country, region, tuple(params.countries), names, params, rng)


def draw_schools(
    country: np.ndarray,
    region: np.ndarray,
    country_codes: tuple[str, ...],
    region_names: tuple[str, ...],
    params: PopulationParams,
    rng: np.random.Generator,
) -> Population:
    """Draw the attributes of schools whose country and region are given.

    Regions are squares of ``region_size_km`` laid side by side on one grid of
    ``ceil(sqrt(number of regions))`` columns in region-id order (country-major), so
    distances within a region are realistic; neighbouring regions, even of different
    countries, are adjacent squares. Teachers are lognormal and the disadvantaged share
    Beta. In each region ``round(advanced_share * size)`` schools, chosen at random, are
    digitally advanced; initial capacity is Beta with mean ``capacity_mean_advanced`` for
    them and ``capacity_mean_other`` for the rest (each shifted by its country's
    ``country_capacity_shift``), sd ``capacity_sd``.

    The draws are made in one order whatever is used afterwards (x, y, teachers,
    disadvantaged, motivation, the advanced key, capacity: n values each), so a roster
    that gives some attributes leaves the draws of the others as they would be without
    it (``mensi_sim.roster``).
    """
    n = country.size
    side = params.region_size_km
    grid = int(np.ceil(np.sqrt(len(region_names))))
    gx, gy = region % grid, region // grid
    x = (gx + rng.random(n)) * side
    y = (gy + rng.random(n)) * side
    teachers = np.maximum(
        1.0,
        np.round(params.teachers_median * np.exp(params.teachers_sigma * rng.standard_normal(n))),
    )
    a, b = beta_params(params.disadvantaged_mean, params.disadvantaged_sd)
    disadvantaged = rng.beta(a, b, n)
    motivation = rng.random(n)
    shifts = np.array([params.country_capacity_shift.get(c, 0.0) for c in country_codes])
    shift = shifts[country] if n else np.zeros(0)
    advanced = advanced_schools(region, params.advanced_share, rng.random(n))
    mean = np.where(advanced, params.capacity_mean_advanced, params.capacity_mean_other)
    a, b = beta_params(np.clip(mean + shift, 0.02, 0.98), params.capacity_sd)
    capacity = rng.beta(a, b)
    return Population(
        country=country.astype(np.int32),
        country_codes=tuple(country_codes),
        region=region.astype(np.int32),
        x=x,
        y=y,
        teachers=teachers,
        disadvantaged=disadvantaged,
        motivation=motivation,
        advanced=advanced,
        capacity=capacity,
        region_names=tuple(region_names),
    )


def advanced_schools(region: np.ndarray, share: float, key: np.ndarray) -> np.ndarray:
    """In each region, the ``round(share * size)`` schools with the smallest ``key``.

    ``key`` is one uniform number per school, so the choice is random within a region and
    the count is exact per region (MenSI: one advanced school in each cluster of five).
    Rounding is half up (``floor(share * size + 0.5)``).

    The order by region, then key (ties: lower id) is two stable sorts, by key and then by
    region (``np.lexsort((key, region))`` in 0.6 of its time; with fewer than 32,768
    regions the second is numpy's radix sort of 16-bit integers). The first is
    ``_argsort_distinct``.
    """
    n = region.size
    if n == 0 or share <= 0:
        return np.zeros(n, dtype=bool)
    by_key = _argsort_distinct(key)
    region_by_key = region[by_key]
    order = by_key[np.argsort(_small_ints(region_by_key), kind="stable")]
    counts = np.bincount(region)
    present = counts[counts > 0]  # the regions' sizes, in the order's region order
    start = np.repeat(np.cumsum(present) - present, present)
    rank = np.arange(n) - start
    advanced = np.zeros(n, dtype=bool)
    advanced[order] = rank < np.repeat(np.floor(share * present + 0.5), present)
    return advanced


def _argsort_distinct(values: np.ndarray) -> np.ndarray:
    """``np.argsort(values, kind="stable")``, by numpy's faster unstable sort when no two
    values are equal (then both give the one order; 0.04 s less at a million keys)."""
    order = np.argsort(values)
    ordered = values[order]
    if (ordered[1:] == ordered[:-1]).any() or np.isnan(ordered[-1:]).any():
        order = np.argsort(values, kind="stable")
    return order


def _small_ints(values: np.ndarray) -> np.ndarray:
    """Non-negative integers as int16 when they all fit (a stable sort of them is then a
    radix sort, in the same order), else unchanged."""
    if values.size and values.max() < np.iinfo(np.int16).max:
        return values.astype(np.int16)
    return values


def most_capable(capacity: np.ndarray, count: int) -> np.ndarray:
    """The ids of the ``count`` schools of highest ``capacity`` (ties: lower id first;
    NaN last), ascending: the set ``np.argsort(-capacity, kind="stable")[:count]``.

    The ``count``-th highest capacity is found by ``np.partition`` (linear) and only the
    schools at exactly that capacity are ranked by id: the stable sort of a million
    capacities took 0.16 s, the partition and two passes 0.01 s.
    """
    key = -np.asarray(capacity, dtype=float)
    n = key.size
    count = min(max(int(count), 0), n)
    if count == 0:
        return np.zeros(0, np.int64)
    if count == n:
        return np.arange(n, dtype=np.int64)
    cut = np.partition(key, count - 1)[count - 1]  # the count-th smallest key (NaN last)
    if np.isnan(cut):  # every number chosen, then the first NaNs by id
        above, at_cut = ~np.isnan(key), np.isnan(key)
    else:
        above, at_cut = key < cut, key == cut
    need = count - int(np.count_nonzero(above))
    chosen = above
    chosen[np.flatnonzero(at_cut)[:need]] = True
    return np.flatnonzero(chosen)


def roster_population(
    roster: Roster, params: PopulationParams, rng: np.random.Generator
) -> Population:
    """The schools of a roster; what it does not give is drawn as for generated schools.

    Every attribute is drawn by :func:`draw_schools` on the roster's countries and regions
    (its regions laid out as squares when it gives no location), then replaced by the
    roster's value wherever it has one: the draws do not depend on which values the roster
    gives, and a roster that gives every attribute of a generated population gives that
    population back. ``advanced`` (a step of the capacity draw) is False for a school whose
    capacity comes from the roster. ``drawn`` records, per attribute, for how many schools
    it was drawn.
    """
    pop = draw_schools(
        roster.country, roster.region, roster.country_codes, roster.region_names, params, rng
    )
    changes: dict[str, object] = {}
    for name in ("x", "y", "teachers", "disadvantaged", "capacity", "motivation"):
        given = roster.values[name]
        changes[name] = np.where(np.isnan(given), getattr(pop, name), given)
    changes["advanced"] = pop.advanced & np.isnan(roster.values["capacity"])
    return dataclasses.replace(
        pop,
        **changes,
        school_ids=roster.ids,
        mentor_hint=roster.mentor_hint,
        drawn=roster.drawn,
    )
