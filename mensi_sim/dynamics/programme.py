"""The programme's life: before its start, while it runs, and what goes on after its end.

While the programme runs (``start_week <= week < end_week``) its ties meet and it pays for
coordination, the platform, incentives and travel. In the first week after its end each
cluster draws once whether it goes on (``sustain_prob``); a cluster that goes on meets at
``sustained_rate_share`` of its rate, unfunded; the community of practice and every other
programme tie close. Ties that are not the programme's (proximity, research graphs) are
never affected.

A staged roll-out (``programme.waves``) gives each wave of regions its own window: wave k
runs the programme ``52 k`` weeks later than the first, for as long. A cluster follows the
window of its mentor's region (a cluster spanning regions moves with its mentor); a school
in a cluster follows its cluster's window, a school outside any the window of its region;
a programme tie outside a cluster (the community of practice) is open while both its
schools' windows run. Each window's phase is this module's ``phase`` at the week shifted by
the wave's offset, so everything the programme does (meetings, sustain draw, coordination,
platform, incentives, courses, opening up) happens to a wave as it would to the whole
programme ``52 k`` weeks earlier.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from mensi_sim.scenario.schema import WEEKS_PER_YEAR, ProgrammeParams
from mensi_sim.seeds import CountryDraws
from mensi_sim.ties import TieTable

Phase = Literal["before", "running", "after"]
#: a wave's phase as a small integer (staged roll-outs keep one per wave, cluster, school)
BEFORE, RUNNING, AFTER = 0, 1, 2
_CODE = {"before": BEFORE, "running": RUNNING, "after": AFTER}


def phase(week: int, params: ProgrammeParams) -> Phase:
    """Where the programme stands in a week."""
    if week < params.start_week:
        return "before"
    return "running" if week < params.end_week else "after"


def years_run(params: ProgrammeParams, weeks: int) -> float:
    """Years the programme ran within the first ``weeks`` weeks."""
    return max(0, min(params.end_week, weeks) - params.start_week) / WEEKS_PER_YEAR


def draw_sustained(
    clusters: CountryDraws,
    params: ProgrammeParams,
    rng: np.random.Generator | Sequence[np.random.Generator],
) -> np.ndarray:
    """Which clusters go on after the end: each with probability ``sustain_prob``.

    One uniform number per cluster (the programme stream), drawn once, at the end, from
    its country's generator (``clusters``, the clusters' ``CountryDraws``; ``rng`` one
    generator per country), so that a country's clusters go on or stop alike whatever
    other countries have.
    """
    return clusters.uniforms(rng) < params.sustain_prob


def programme_open(ties: TieTable, now: Phase, sustained: np.ndarray) -> np.ndarray:
    """Per tie: whether the programme lets it meet now (True for ties not in the programme).

    Running: every programme tie; before: none; after: the ties of sustained clusters.
    """
    if now == "running":
        return np.ones(ties.n_ties, dtype=bool)
    if now == "before":
        return ~ties.programme
    in_sustained = np.zeros(ties.n_ties, dtype=bool)
    if sustained.size:
        in_sustained = (ties.event >= 0) & sustained[np.maximum(ties.event, 0)]
    return ~ties.programme | in_sustained


def cluster_scale(now: Phase, sustained: np.ndarray, params: ProgrammeParams) -> np.ndarray:
    """Per cluster: the factor on its meeting rate (1 running, the sustained share after)."""
    if now == "running":
        return np.ones(sustained.size)
    if now == "before":
        return np.zeros(sustained.size)
    return np.where(sustained, params.sustained_rate_share, 0.0)


# ---------------------------------------------------------------------------- staged roll-out


def wave_phases(week: int, params: ProgrammeParams) -> tuple[Phase, ...]:
    """The phase of each wave's window in a week (one entry without waves)."""
    return tuple(phase(week - params.wave_offset(k), params) for k in range(params.n_waves))


def any_running(phases: tuple[Phase, ...]) -> bool:
    """Whether some wave's window runs."""
    return "running" in phases


def running_rows(params: ProgrammeParams, steps: np.ndarray) -> np.ndarray:
    """Per recorded row s (the state after s weeks): whether the programme ran in week
    s - 1 (in some wave's window under a staged roll-out)."""
    out = np.zeros(steps.size, dtype=bool)
    for k in range(params.n_waves):
        off = params.wave_offset(k)
        out |= (steps > params.start_week + off) & (steps <= params.end_week + off)
    return out


def wave_years(params: ProgrammeParams, weeks: int) -> np.ndarray:
    """Years each wave's window ran within the first ``weeks`` weeks."""
    out = np.zeros(params.n_waves)
    for k in range(params.n_waves):
        off = params.wave_offset(k)
        out[k] = max(0, min(params.end_week + off, weeks) - params.start_week - off)
    return out / WEEKS_PER_YEAR


def span_years(params: ProgrammeParams, weeks: int) -> float:
    """Years from the first wave's start to the last wave's end, within the first ``weeks``
    weeks: the programme's years as its funder sees them (``years_run`` without waves)."""
    if not params.staged:
        return years_run(params, weeks)
    return max(0, min(params.last_end_week, weeks) - params.start_week) / WEEKS_PER_YEAR


def cluster_waves(
    cluster_mentor: np.ndarray, cluster: np.ndarray, school_region_wave: np.ndarray
) -> np.ndarray:
    """The wave of each cluster: its mentor's region's; a cluster without a mentor takes the
    earliest wave among its schools (wave 0 when it has none)."""
    n_clusters = cluster_mentor.size
    out = np.zeros(n_clusters, dtype=np.int64)
    has = cluster_mentor >= 0
    out[has] = school_region_wave[cluster_mentor[has]]
    if not has.all():
        lone = np.full(n_clusters, np.iinfo(np.int64).max)
        inside = cluster >= 0
        np.minimum.at(lone, cluster[inside], school_region_wave[inside])
        fill = ~has & (lone < np.iinfo(np.int64).max)
        out[fill] = lone[fill]
    return out


def school_waves(
    cluster: np.ndarray, cluster_wave: np.ndarray, school_region_wave: np.ndarray
) -> np.ndarray:
    """The wave whose window each school follows: its cluster's, else its region's."""
    inside = (cluster >= 0) & (cluster < cluster_wave.size)
    out = school_region_wave.astype(np.int64, copy=True)
    out[inside] = cluster_wave[cluster[inside]]
    return out


@dataclass(frozen=True)
class StagedWindow:
    """What a staged roll-out allows in the current weeks (fixed until a wave's phase, the
    ties or a cluster's membership change).

    Attributes:
        open: Per tie: the programme lets it meet (True for ties not in the programme).
        funded: Per tie: its window runs (the programme pays its travel; it is a
            programme tie's platform use).
        scale: Per cluster: the factor on its meeting rate.
        school_running: Per school: its window runs (coordination, incentives, joining).
    """

    open: np.ndarray
    funded: np.ndarray
    scale: np.ndarray
    school_running: np.ndarray


def staged_window(
    ties: TieTable,
    phases: tuple[Phase, ...],
    cluster_wave: np.ndarray,
    school_wave: np.ndarray,
    sustained: np.ndarray,
    params: ProgrammeParams,
) -> StagedWindow:
    """``programme_open`` and ``cluster_scale`` of a staged roll-out, per cluster and tie.

    A tie in a cluster's meeting follows its cluster's window (running: open; before:
    closed; after: open in a sustained cluster); any other programme tie is open, and
    funded, while the windows of both its schools run.
    """
    code = np.array([_CODE[p] for p in phases], dtype=np.int8)
    c_phase = code[cluster_wave] if cluster_wave.size else np.zeros(0, np.int8)
    c_running = c_phase == RUNNING
    c_goes_on = (c_phase == AFTER) & sustained
    scale = np.where(c_running, 1.0, np.where(c_goes_on, params.sustained_rate_share, 0.0))
    school_running = code[school_wave] == RUNNING
    event = ties.event
    in_cluster = event >= 0
    ev = np.maximum(event, 0)
    both = school_running[ties.src] & school_running[ties.dst]
    if c_phase.size:
        running = np.where(in_cluster, c_running[ev], both)
        allowed = np.where(in_cluster, c_running[ev] | c_goes_on[ev], both)
    else:
        running = allowed = both
    return StagedWindow(
        open=~ties.programme | allowed,
        funded=~ties.programme | running,
        scale=scale,
        school_running=school_running,
    )


def draw_sustained_wave(
    sustained: np.ndarray,
    cluster_wave: np.ndarray,
    wave: int,
    params: ProgrammeParams,
    clusters: CountryDraws,
    rng: np.random.Generator | Sequence[np.random.Generator],
) -> np.ndarray:
    """``sustained`` with the clusters of ``wave`` drawn at its end (``draw_sustained``: one
    number per cluster, every cluster, so the draws do not depend on the waves' sizes)."""
    drawn = draw_sustained(clusters, params, rng)
    return np.where(cluster_wave == wave, drawn, sustained)
