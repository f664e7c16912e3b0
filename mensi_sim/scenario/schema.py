"""The scenario schema: every parameter of the model, declared once.

Each field has a default, a unit, its allowed range and, where the default comes
from a source, the source (see ``mensi_sim.scenario.fields.param``). Unknown keys,
wrong types and out-of-range values are errors (``extra="forbid"``, ``strict=True``).
docs/ODD.md lists the same parameters; ``python -m mensi_sim.cli.reference`` prints them.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from mensi_sim.registry import ADOPTION_RULES, INCENTIVE_TYPES, STRUCTURES, structure_names
from mensi_sim.scenario.fields import param
from mensi_sim.scenario.roster import read_roster

WEEKS_PER_YEAR = 52

TargetGroup = Literal["mentors", "mentees", "participants", "outside", "all"]

MENSI_COUNTRIES = ["BE-VLG", "HR", "CZ", "HU", "IT", "PT"]

#: EUR per staff hour in the MenSI countries, 2021/22: the midpoint of the Eurydice annual
#: gross statutory salary of a lower-secondary teacher (ISCED 24, minimum qualification)
#: x 1.3263 employer costs (Eurostat: non-wage costs 24.6 % of EU labour costs, 2021) /
#: annual working hours (OECD Education at a Glance 2022, D4.1: CZ 1,688, HU 1,656,
#: PT 1,368; the OECD average 1,557 elsewhere). Derivation and sources:
#: docs/sources/staff_rates.md; docs/ASSUMPTIONS.md section 8.
STAFF_HOUR_RATE_BY_COUNTRY: dict[str, float] = {
    "BE-VLG": 42.0,  # EUR 35,478 - 63,158 a year (range 30 - 54 an hour)
    "HR": 14.0,  # EUR 14,606 - 17,670 (12 - 15)
    "CZ": 14.0,  # CZK 390,000 - 513,600 at 24.88 CZK/EUR (12 - 16)
    "HU": 9.0,  # HUF 2,890,800 - 5,091,240 at 375.21 HUF/EUR (6 - 11)
    "IT": 28.0,  # EUR 26,114 - 38,843 (22 - 33)
    "PT": 34.0,  # EUR 22,550 - 48,621 (22 - 47)
}


def policy_structures() -> tuple[str, ...]:
    """The registered policy structures (``none`` and the ways to organise mentoring)."""
    return structure_names("policy")


def research_graphs() -> tuple[str, ...]:
    """The registered research and validation graphs (``file`` among them)."""
    return structure_names("research")


def _registered(registry, value: str, field: str) -> str:  # noqa: ANN001
    """``value`` when ``registry`` has it, else a ValueError naming the choices."""
    if value not in registry:
        choices = ", ".join(repr(n) for n in registry.names())
        raise ValueError(f"Input should be {choices}")
    return value


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class TimeParams(_Section):
    """Calendar: one step is one week; the run starts in the first week of September."""

    steps: int = param(
        156,
        "Number of weeks simulated: the horizon (default: the programme year and two more)",
        unit="weeks",
        ge=1,
        le=5200,
        source="issue 9: outcomes two years after the funding ends",
    )
    term_weeks: int = param(
        36, "School weeks per year (mentoring happens only in term)", unit="weeks", ge=0, le=52
    )


class ProgrammeParams(_Section):
    """When the programme runs, and what remains of it after its end.

    A policy structure's mentoring, peer and community ties are the programme: they meet,
    and coordination, platform and incentives are paid, from ``start_week`` until
    ``end_week``. At the end each cluster goes on meeting on its own with probability
    ``sustain_prob``, at ``sustained_rate_share`` of its rate, unfunded (its staff time is
    still booked); the community of practice closes with its platform. Research graphs are
    the network under study, not a programme: their ties never stop.
    """

    start_week: int = param(0, "First week of the programme", unit="week", ge=0, le=5200)
    end_week: int = param(
        52,
        "First week after the programme (funding ends)",
        unit="week",
        ge=1,
        le=5200,
        source="MenSI pilot: one school year, 2021/22, from its mentor course of Sep-Oct 2021 "
        "(the model's year: 52 weeks from September; no source found gives the pilot's end)",
    )
    sustain_prob: float = param(
        0.3,
        "Probability that a cluster goes on meeting after the programme ends",
        unit="probability",
        ge=0,
        le=1,
        source="assumption: most funded school networks dissolve or thin out when funding "
        "ends (docs/ASSUMPTIONS.md 7)",
    )
    sustained_rate_share: float = param(
        0.5,
        "A sustained cluster meets at this share of its programme meeting rate",
        unit="share",
        ge=0,
        le=1,
    )
    waves: list[list[str]] = Field(
        default_factory=list,
        description="A staged roll-out: the regions in order of start, in groups (waves). Each "
        "name is a region (e.g. 'HR-2', a roster's region name, '<country>/<region>' for one "
        "two countries share) or a country code (all its regions); every region is in exactly "
        "one wave. Wave k (k = 0, 1, ...) runs the programme from start_week + 52 k to "
        "end_week + 52 k; a cluster follows its mentor's region. Empty: one programme for "
        "every school (docs/ODD.md 7.0)",
        json_schema_extra={"unit": "regions", "source": "issue 13: the order of regions"},
    )

    @model_validator(mode="after")
    def _check_order(self) -> ProgrammeParams:
        if self.end_week <= self.start_week:
            raise ValueError(
                f"end_week: {self.end_week} must be after start_week = {self.start_week}"
            )
        seen: dict[str, int] = {}
        for k, wave in enumerate(self.waves):
            if not wave:
                raise ValueError(f"waves.{k}: an empty wave (name at least one region)")
            for name in wave:
                if not name:
                    raise ValueError(f"waves.{k}: an empty region name")
                if name in seen:
                    raise ValueError(
                        f"waves.{k}: {name!r} is already in wave {seen[name]} (once only)"
                    )
                seen[name] = k
        return self

    @property
    def staged(self) -> bool:
        """Whether the programme is rolled out in waves (else one window for every school)."""
        return bool(self.waves)

    @property
    def n_waves(self) -> int:
        """Waves of the roll-out (1 without waves: every school at once)."""
        return max(len(self.waves), 1)

    def wave_offset(self, wave: int) -> int:
        """Weeks wave ``wave``'s window is shifted by: whole years, ``52 * wave``."""
        return WEEKS_PER_YEAR * wave

    @property
    def last_end_week(self) -> int:
        """The first week after the last wave's window (``end_week`` without waves)."""
        return self.end_week + self.wave_offset(self.n_waves - 1)


def region_waves(
    waves: list[list[str]],
    countries: list[str],
    region_names: list[str],
    region_country: list[int],
    optional: list[bool] | None = None,
) -> list[int]:
    """The wave of each region (in region id order) under ``programme.waves``; -1 for a
    region that ``optional`` lets be in none (one without schools).

    A name in a wave is a region name, ``<country>/<region>`` (a roster's region name that
    two countries share) or a country code (all the country's regions).

    Raises:
        ValueError: One line naming the first unknown or ambiguous name, the first region
            named twice (itself and through its country) or the first region in no wave.
    """
    wave_of = [-1] * len(region_names)
    by_name: dict[str, list[int]] = {}
    for r, (name, c) in enumerate(zip(region_names, region_country, strict=True)):
        by_name.setdefault(name, []).append(r)
        if 0 <= c < len(countries):
            by_name.setdefault(f"{countries[c]}/{name}", []).append(r)
    for k, wave in enumerate(waves):
        for name in wave:
            if name in by_name and len(by_name[name]) > 1:
                raise ValueError(
                    f"programme.waves.{k}: {name!r} names a region of {len(by_name[name])} "
                    f"countries; write '<country>/{name}'"
                )
            if name in by_name:
                regions = by_name[name]
            elif name in countries:
                c = countries.index(name)
                regions = [r for r, rc in enumerate(region_country) if rc == c]
            else:
                shown = ", ".join(region_names[:4]) + (", ..." if len(region_names) > 4 else "")
                raise ValueError(
                    f"programme.waves.{k}: {name!r} is neither a region ({shown}) nor a "
                    f"country ({', '.join(countries)}) of the population"
                )
            for r in regions:
                if wave_of[r] >= 0:
                    raise ValueError(
                        f"programme.waves.{k}: region {region_names[r]!r} is already in wave "
                        f"{wave_of[r]}"
                    )
                wave_of[r] = k
    missing = [
        region_names[r]
        for r, k in enumerate(wave_of)
        if k < 0 and not (optional is not None and optional[r])
    ]
    if missing:
        raise ValueError(
            f"programme.waves: region {missing[0]!r} is in no wave (every region must be in "
            f"one; {len(missing)} missing)"
        )
    return wave_of


class PopulationParams(_Section):
    """The schools: generated, or read from a roster with the missing attributes generated."""

    roster: str | list[str] = Field(
        "",
        description="School roster: a CSV or Parquet file (or a list, read in order) with "
        "columns id, country, region and optional location, teachers, disadvantaged, "
        "capacity or SELFIE scores, motivation, volunteers_to_mentor (mensi_sim/scenario/"
        "roster.py); relative to the scenario file. It sets n_schools and countries; "
        "attributes it lacks are drawn as for generated schools",
    )
    n_schools: int = param(120, "Number of schools", unit="schools", ge=1, le=2_000_000)
    countries: list[str] = Field(
        default_factory=lambda: list(MENSI_COUNTRIES),
        description="Country codes; schools are split over them by country_weights",
        min_length=1,
        json_schema_extra={"unit": "", "source": "MenSI pilot countries"},
    )
    country_weights: list[float] | None = Field(
        default=None,
        description="Relative number of schools per country (None: equal split)",
        json_schema_extra={"unit": "relative", "source": "assumption"},
    )
    regions_per_country: int = param(
        4, "Regions per country", unit="regions", ge=1, le=1000, source="MenSI pilot: 4 per country"
    )
    region_size_km: float = param(
        60.0, "Side of the square area of one region", unit="km", gt=0, le=5000
    )
    teachers_median: float = param(
        18.5,
        "Median teachers per school (lognormal)",
        unit="teachers",
        gt=0,
        le=1000,
        source="EU: 5.26 million teachers / ~250,000 schools = a mean of about 21 per school; "
        "the lognormal's median is the mean / exp(teachers_sigma^2 / 2) = 21 / exp(0.125) = "
        "18.5 (no median is published)",
    )
    teachers_sigma: float = param(0.5, "Log-sd of teachers per school", unit="log", ge=0, le=3)
    disadvantaged_mean: float = param(
        0.2, "Mean share of disadvantaged students (Beta)", unit="share", gt=0, lt=1
    )
    disadvantaged_sd: float = param(
        0.12, "Sd of the share of disadvantaged students", unit="share", gt=0, lt=0.5
    )
    disadvantaged_cutoff: float = param(
        0.3,
        "A school counts as disadvantaged (for the equity gap) when its share is >= this",
        unit="share",
        ge=0,
        le=1,
    )
    advanced_share: float = param(
        0.2,
        "Share of digitally advanced schools in each region (chosen at random within it)",
        unit="share",
        ge=0,
        le=1,
        source="MenSI pilot: 24 schools chosen as digitally advanced among 120",
    )
    capacity_mean_advanced: float = param(
        0.75,
        "Mean initial capacity of advanced schools (Beta; SELFIE about 4.0)",
        unit="capacity",
        gt=0,
        lt=1,
        source="assumption: MenSI mentors were chosen as digitally advanced",
    )
    capacity_mean_other: float = param(
        0.40,
        "Mean initial capacity of the other schools (SELFIE about 2.6)",
        unit="capacity",
        gt=0,
        lt=1,
    )
    capacity_sd: float = param(0.1, "Sd of initial capacity", unit="capacity", gt=0, lt=0.5)
    country_capacity_shift: dict[str, float] = Field(
        default_factory=dict,
        description="Shift of mean initial capacity per country code",
        json_schema_extra={"unit": "capacity", "source": "assumption"},
    )
    disadvantage_bands: list[float] = Field(
        default_factory=lambda: [0.1, 0.2, 0.3],
        description="Edges of the disadvantage bands that outcomes are reported by "
        "(share of disadvantaged pupils; ascending, each in (0, 1))",
        json_schema_extra={
            "unit": "share",
            "source": "assumption: about quartiles of the default Beta(0.2, 0.12) shares",
        },
    )

    @property
    def roster_files(self) -> tuple[str, ...]:
        """The roster's files (empty without a roster)."""
        if isinstance(self.roster, str):
            return (self.roster,) if self.roster else ()
        return tuple(self.roster)

    @model_validator(mode="after")
    def _check_countries(self) -> PopulationParams:
        edges = self.disadvantage_bands
        if any(not 0 < e < 1 for e in edges) or any(
            b <= a for a, b in zip(edges, edges[1:], strict=False)
        ):
            raise ValueError(
                f"disadvantage_bands: {edges}: edges must be ascending and each in (0, 1)"
            )
        if isinstance(self.roster, list) and not all(self.roster):
            raise ValueError("roster: an empty file name in the list")
        if len(set(self.countries)) != len(self.countries):
            raise ValueError("countries: duplicate country code")
        if self.country_weights is not None:
            if len(self.country_weights) != len(self.countries):
                raise ValueError(
                    f"country_weights: has {len(self.country_weights)} entries, "
                    f"countries has {len(self.countries)}"
                )
            weights = self.country_weights
            # finite, and a finite sum: inf or 1e308 + 1e308 would split no schools
            if any(not (0 <= w < math.inf) for w in weights) or not 0 < sum(weights) < math.inf:
                raise ValueError("country_weights: must be finite and >= 0 with a positive sum")
        for code, shift in self.country_capacity_shift.items():
            if code not in self.countries:
                raise ValueError(f"country_capacity_shift: unknown country {code!r}")
            if not -0.5 <= shift <= 0.5:
                raise ValueError(
                    f"country_capacity_shift.{code}: {shift} outside -0.5 <= value <= 0.5"
                )
        # mean +- sd must define a Beta distribution: sd^2 < mean (1 - mean)
        for group in ("advanced", "other"):
            mean = getattr(self, f"capacity_mean_{group}")
            if self.capacity_sd**2 >= mean * (1 - mean):
                raise ValueError(
                    f"capacity_sd: {self.capacity_sd} too large for capacity_mean_{group} = {mean}"
                )
        if self.disadvantaged_sd**2 >= self.disadvantaged_mean * (1 - self.disadvantaged_mean):
            raise ValueError("disadvantaged_sd: too large for disadvantaged_mean (Beta impossible)")
        return self


class PlanParams(_Section):
    """``structure = "designed"``: a programme planned region by region (``networks/designed.py``).

    In each region that takes part, the ``network.mentors_per_region`` schools with the
    highest mentor score become mentors (or the listed ``mentors``) and each gets up to
    ``network.mentees_per_mentor`` schools of its region. The score is
    ``capacity * u(c) + centrality * u(z) + distance * u(-d) + disadvantage * u(s)``, with u
    a school's percentile rank within its region (0 lowest, 1 highest) of its capacity c,
    its centrality z (schools within ``network.proximity_radius_km``), its mean distance d to
    the region's other schools and its share s of disadvantaged students. The defaults give
    ``top_down``'s hubs exactly.
    """

    mode: Literal["in_person", "online"] = Field(
        "in_person", description="designed: how clusters meet where `regions` says nothing"
    )
    regions: list[Literal["in_person", "online", "none"]] = Field(
        default_factory=list,
        description="designed: per region (in region id order) in_person, online or none "
        "(no programme there); empty: every region `mode`",
    )
    mentors: list[int] = Field(
        default_factory=list,
        description="designed: the mentor schools by id (empty: the highest scores per region)",
    )
    capacity: float = param(
        1.0, "designed: weight of capacity in the mentor score", unit="weight", ge=-10, le=10
    )
    centrality: float = param(
        0.0,
        "designed: weight of centrality (schools within the proximity radius) in the mentor score",
        unit="weight",
        ge=-10,
        le=10,
    )
    distance: float = param(
        0.0,
        "designed: weight of nearness (minus the mean distance to the region's schools)",
        unit="weight",
        ge=-10,
        le=10,
    )
    disadvantage: float = param(
        0.0,
        "designed: weight of the share of disadvantaged students in the mentor score",
        unit="weight",
        ge=-10,
        le=10,
    )
    mentees: Literal["nearest", "disadvantaged", "least_capable"] = Field(
        "nearest",
        description="designed: which schools become mentees when the slots are fewer than the "
        "schools (then each mentor takes the nearest of them)",
    )


class NetworkParams(_Section):
    """Which structure ties the schools, and the parameters of each builder."""

    structure: str = Field(
        "top_down",
        description="Policy structure or research graph (a name in mensi_sim.registry.STRUCTURES)",
        json_schema_extra={
            "unit": "",
            "source": "MenSI pilot: regional hubs",
            "choices": "structures",
        },
    )
    mentors_per_region: int = param(
        1,
        "Mentor schools designated per region (top_down, hybrid, designed)",
        unit="schools",
        ge=1,
        le=10_000,
        source="MenSI pilot: 1 mentor per region",
    )
    mentees_per_mentor: int = param(
        4,
        "Mentees assigned to each mentor, k (top_down, hybrid, designed)",
        unit="schools",
        ge=1,
        le=1000,
        source="MenSI pilot: 4 mentees per mentor",
    )
    peer_ties: bool = Field(True, description="Mentees of one cluster form peer ties")
    opt_in_base: float = param(
        0.2,
        "bottom_up: opt-in probability of a school with motivation 0",
        unit="probability",
        ge=0,
        le=1,
    )
    opt_in_motivation: float = param(
        0.6, "bottom_up: added opt-in probability at motivation 1", unit="probability", ge=0, le=1
    )
    mentor_min_capacity: float = param(
        0.5, "bottom_up: minimum capacity of a volunteer mentor", unit="capacity", ge=0, le=1
    )
    mentor_limit: int = param(
        6, "bottom_up: most mentees a volunteer mentor accepts", unit="schools", ge=1, le=1000
    )
    choice_distance_km: float = param(
        50.0,
        "bottom_up: distance at which a mentor's attractiveness halves",
        unit="km",
        gt=0,
        le=10_000,
    )
    virtual_scope: Literal["national", "cross_border"] = Field(
        "national", description="virtual: match within a country or across the whole population"
    )
    virtual_mentees_per_mentor: int = param(
        8, "virtual: mentees per online mentor", unit="schools", ge=1, le=1000
    )
    virtual_mentors_per_country: int = param(
        4, "virtual: online mentors per country (national scope)", unit="schools", ge=1, le=100_000
    )
    community: bool | None = Field(
        None,
        description="Online community of practice among participants "
        "(None: the structure's default, on for virtual and hybrid)",
    )
    graph_degree: int = param(
        4,
        "Research graphs: degree (ring_lattice, random_regular, watts_strogatz k)",
        unit="ties",
        ge=0,
        le=10_000,
    )
    graph_p: float = param(
        0.1,
        "Research graphs: edge probability (erdos_renyi) or rewiring (watts_strogatz)",
        unit="probability",
        ge=0,
        le=1,
    )
    graph_m: int = param(
        2, "Research graphs: edges per new node (barabasi_albert)", unit="ties", ge=1, le=10_000
    )
    graph_strength: float = param(
        1.0, "Research graphs: strength of every tie", unit="strength", gt=0, le=1
    )
    file: str = Field(
        "",
        description="structure = 'file': path (relative to the scenario file) of a GraphML, "
        "GEXF or edge-list CSV network",
    )
    plan: PlanParams = Field(
        default_factory=PlanParams, description="structure = 'designed': the programme's plan"
    )
    structure_by_country: dict[str, str] = Field(
        default_factory=dict,
        description="A policy structure per country code, each built on its country's "
        "schools only (countries not named use structure); e.g. one approach per ministry",
        json_schema_extra={"unit": "", "source": ""},
    )
    proximity: bool = Field(True, description="Add weak informal ties to nearby schools")
    proximity_radius_km: float = param(
        10.0, "Proximity ties link schools closer than this", unit="km", gt=0, le=1000
    )
    proximity_max_ties: int = param(
        5, "Most proximity ties per school (nearest first)", unit="ties", ge=1, le=100
    )

    @field_validator("structure")
    @classmethod
    def _known_structure(cls, value: str) -> str:
        return _registered(STRUCTURES, value, "structure")

    @field_validator("file")
    @classmethod
    def _usable_path(cls, value: str) -> str:
        if "\x00" in value:
            raise ValueError("the path contains a NUL byte")
        return value

    @field_validator("structure_by_country")
    @classmethod
    def _policy_by_country(cls, value: dict[str, str]) -> dict[str, str]:
        policy = structure_names("policy")
        for code, name in value.items():
            if name not in policy:
                choices = ", ".join(repr(n) for n in policy)
                raise ValueError(f"{code}: {name!r} is not a policy structure ({choices})")
        return value


class ContactParams(_Section):
    """Meetings: how often each kind of tie meets, how strong it is, who goes, for how long.

    A cluster (a mentor and its mentees) meets as one event, in person or online by the
    mode of its mentoring ties; its peer ties meet in that event. Other ties (community,
    proximity, the ties of research graphs and files) meet pairwise.
    """

    rate_in_person: float = param(
        4 / 36,
        "Cluster meetings per term week of an in-person cluster (4 in a 36-week school year)",
        unit="per term week",
        ge=0,
        le=1,
        source="assumption: no MenSI meeting frequency is public; MenSI Italy's 'series of "
        "four local meetings' (2022) were national-coordinator events, about one per Italian "
        "cluster, not the clusters' own meetings; EEF Schools Partnership Programme: 4 "
        "training days + 2 peer reviews a programme (docs/sources/anchors.md 2, 5)",
    )
    rate_online: float = param(
        0.25,
        "Cluster meetings per term week of an online cluster (about monthly)",
        unit="per term week",
        ge=0,
        le=1,
    )
    rate_peer: float = param(
        0.25,
        "Meetings per term week of a peer tie outside a cluster (research graphs, files)",
        unit="per term week",
        ge=0,
        le=1,
    )
    rate_community: float = param(
        0.1,
        "Exchanges per term week of a community-of-practice tie",
        unit="per term week",
        ge=0,
        le=1,
    )
    rate_proximity: float = param(
        0.02, "Informal meetings per term week of a proximity tie", unit="per term week", ge=0, le=1
    )
    strength_in_person: float = param(
        1.0, "Strength of an in-person mentoring tie", unit="strength", ge=0, le=1
    )
    strength_online: float = param(
        0.6, "Strength of an online mentoring tie", unit="strength", ge=0, le=1
    )
    strength_peer: float = param(0.5, "Strength of a peer tie", unit="strength", ge=0, le=1)
    strength_community: float = param(
        0.2, "Strength of a community tie", unit="strength", ge=0, le=1
    )
    strength_proximity: float = param(
        0.1, "Strength of a proximity tie", unit="strength", ge=0, le=1
    )
    hours_in_person: float = param(
        7.0,
        "Length of an in-person meeting (a school day)",
        unit="hours per delegate",
        ge=0,
        le=24,
        source="assumption: a school day of 7 hours; no source gives the length of a "
        "cluster's own meetings (MenSI Italy's national-coordinator meetings lasted 1-2 days, "
        "the EEF Schools Partnership Programme's are training days)",
    )
    hours_online: float = param(
        1.5, "Length of an online meeting", unit="hours per delegate", ge=0, le=24
    )
    hours_community: float = param(
        1.0,
        "Staff time of one community exchange, per school (one staff member)",
        unit="hours",
        ge=0,
        le=24,
    )
    mentor_prep_hours: float = param(
        2.0,
        "Preparation of a cluster meeting by the mentor school",
        unit="hours per meeting",
        ge=0,
        le=100,
    )
    travel_speed_kmh: float = param(
        50.0,
        "Travel speed to in-person meetings (travel time is staff time)",
        unit="km/h",
        ge=1,
        le=200,
    )
    teachers_per_delegate: float = param(
        15.0,
        "A school sends one delegate per this many teachers (at least one)",
        unit="teachers",
        ge=1,
        le=1000,
        source="assumption: 2 delegates from a median school of 18.5 teachers",
    )
    max_delegates: int = param(
        4,
        "Most delegates a school sends to a meeting",
        unit="staff",
        ge=1,
        le=100,
        source="assumption; a larger school is reached less per meeting (rule 2)",
    )


class LearningParams(_Section):
    """Capacity learning in meetings (rule 2)."""

    enabled: bool = Field(True, description="Mentoring changes capacity")
    rate: float = param(
        0.541,
        "Learning rate lambda per meeting",
        unit="per meeting",
        ge=0,
        le=1,
        source="calibrated: on scenarios/top_down.toml a mentee closes about a quarter of its "
        "gap to its mentor in one school year (mensi_sim.calibration, 40 replicates: 0.541; "
        "the target is an assumption)",
    )
    gamma: float = param(
        0.5, "Load dilution exponent gamma (0: none, 1: time split)", unit="", ge=0, le=3
    )
    reciprocity: float = param(
        0.1,
        "Mentor's gain as a share of its mentee's gain, times (1 - c_mentor)",
        unit="",
        ge=0,
        le=1,
    )
    drift: float = param(
        0.002,
        "Weekly drift of capacity back toward baseline without contact",
        unit="per week",
        ge=0,
        le=1,
    )
    disadvantaged_absorption: float = param(
        0.5, "absorb = 1 - this * disadvantaged share", unit="", ge=0, le=1
    )


class Course(_Section):
    """A training course (rule 3): enrolment at start, completion at the end."""

    name: str = Field(..., min_length=1, description="Course name")
    target: TargetGroup = Field("mentors", description="Who is offered the course")
    start_week: int = param(0, "Week the course starts", unit="week", ge=0, le=5200)
    duration_weeks: int = param(8, "Length of the course", unit="weeks", ge=1, le=520)
    enrol_prob: float = param(
        1.0, "Probability an offered school enrols", unit="probability", ge=0, le=1
    )
    completion_prob: float = param(
        74 / 93,
        "Probability an enrolled school completes",
        unit="probability",
        ge=0,
        le=1,
        source="MenSI mentor course 2021: 74 of 93 registered completed",
    )
    capacity_gain: float = param(
        0.05,
        "Completion closes this share of the school's gap to capacity 1",
        unit="share",
        ge=0,
        le=1,
    )
    cost_per_participant: float = param(
        0.0, "Fee per enrolled school (cash)", unit="EUR", ge=0, le=1e7
    )
    staff_hours: float = param(
        40.0,
        "Staff time per enrolled school (all its staff on the course together)",
        unit="hours",
        ge=0,
        le=10_000,
        source="MenSI mentor course 2021: 93 staff registered from the 24 mentor schools (3.9 "
        "a school) x about 10 hours each (assumption: three online modules, Sep-Oct 2021; no "
        "workload published) = 39, rounded to 40",
    )


class TrainingParams(_Section):
    """Configured courses (rule 3)."""

    courses: list[Course] = Field(default_factory=list, description="Courses offered")


class AdoptionParams(_Section):
    """Adoption and abandonment of the practice (rule 4)."""

    rule: str = Field(
        "contact",
        description="Adoption rule: contact (exposure in meetings, capacity as readiness; the "
        "default), bass (share of adopting neighbours), threshold (Granovetter/Watts)",
        json_schema_extra={"unit": "", "source": "", "choices": "adoption rules"},
    )
    p: float = param(
        0.03 / WEEKS_PER_YEAR,
        "Innovation coefficient: adoption hazard without contact (contact: at full readiness)",
        unit="per week",
        ge=0,
        le=1,
        source="Sultan, Farley & Lehmann 1990: p = 0.03 per year",
    )
    q: float = param(
        0.38 / WEEKS_PER_YEAR,
        "bass rule: imitation coefficient (times the adopting-neighbour share m)",
        unit="per week",
        ge=0,
        le=10,
        source="Sultan, Farley & Lehmann 1990: q = 0.38 per year",
    )
    exposure: float = param(
        0.1,
        "contact rule: adoption hazard per meeting of strength 1 with an adopting school, at "
        "full readiness",
        unit="per meeting",
        ge=0,
        le=10,
        source="assumption: a fully ready school whose adopting mentor it meets 4 times a year "
        "in person (top_down) adopts with probability 1 - exp(-0.4) = 0.33 a year, about 9 "
        "times online at 0.6 (virtual) 1 - exp(-0.54) = 0.42 (docs/ASSUMPTIONS.md 2.1)",
    )
    readiness_midpoint: float = param(
        0.6,
        "contact rule: capacity at which a school is half ready to adopt (SELFIE 3.4)",
        unit="capacity",
        ge=0,
        le=1,
        source="assumption: mainstreaming needs capacity above the middle of the SELFIE scale",
    )
    readiness_slope: float = param(
        10.0,
        "contact rule: steepness kappa of readiness r(c) = 1 / (1 + exp(-kappa (c - midpoint)))",
        unit="per capacity",
        ge=0,
        le=100,
    )
    theta: float = param(
        1.0,
        "bass rule: capacity exponent, g(c) = c^theta (0: capacity irrelevant)",
        unit="",
        ge=0,
        le=10,
    )
    threshold: float = param(
        0.2,
        "threshold rule: mean adopting-neighbour share phi needed to adopt",
        unit="share",
        ge=0,
        le=1,
    )
    threshold_distribution: Literal["fixed", "uniform", "normal"] = Field(
        "fixed",
        description="phi is one value, uniform on threshold +- spread, or normal(sd=spread)",
    )
    threshold_spread: float = param(0.0, "Spread of phi", unit="share", ge=0, le=1)
    min_adopting_neighbours: int = param(
        1,
        "threshold rule: also needs at least this many adopting neighbours (complex contagion)",
        unit="schools",
        ge=0,
        le=10_000,
    )
    abandonment: float = param(
        0.0,
        "Abandonment rate r: an adopter abandons with probability r (1 - c)",
        unit="per week",
        ge=0,
        le=1,
    )
    initial: Literal["none", "share", "count", "most_capable", "mentors", "ids"] = Field(
        "most_capable",
        description="Which schools have adopted at the start: none; a random share or count; "
        "the most capable share (by initial capacity, the same schools under every "
        "structure); the mentors; or listed ids",
    )
    initial_share: float = param(
        0.2,
        "initial = 'share' or 'most_capable': share adopted at start",
        unit="share",
        ge=0,
        le=1,
        source="assumption: the advanced schools (population.advanced_share) practise already",
    )
    initial_count: int = param(
        0, "initial = 'count': schools adopted at start", unit="schools", ge=0, le=2_000_000
    )
    initial_ids: list[int] = Field(
        default_factory=list, description="initial = 'ids': school ids adopted at start"
    )

    @field_validator("rule")
    @classmethod
    def _known_rule(cls, value: str) -> str:
        return _registered(ADOPTION_RULES, value, "rule")


class EngagementParams(_Section):
    """Motivation to take part, incentives and dropout (rule 5)."""

    enabled: bool = Field(True, description="Engagement varies (off: everyone fully engaged)")
    participation: Literal["auto", "voluntary", "compulsory"] = Field(
        "auto",
        description="How members take part (schools outside the programme act on their own, "
        "as volunteers); auto: the structure's (voluntary for bottom_up, where schools opt in; "
        "compulsory where they are assigned: top_down, virtual, hybrid)",
    )
    initial_voluntary: float = param(
        0.85, "Initial engagement of volunteers", unit="engagement", ge=0, le=1
    )
    initial_compulsory: float = param(
        0.6, "Initial engagement under compulsion", unit="engagement", ge=0, le=1
    )
    target_voluntary: float = param(
        0.7, "Long-run engagement of volunteers", unit="engagement", ge=0, le=1
    )
    target_compulsory: float = param(
        0.5, "Long-run engagement under compulsion", unit="engagement", ge=0, le=1
    )
    relax_rate: float = param(
        0.1, "Weekly relaxation of engagement toward its target", unit="per week", ge=0, le=1
    )
    fatigue_per_mentee: float = param(
        0.03,
        "Mentor's target falls by this per active mentee",
        unit="engagement per mentee",
        ge=0,
        le=1,
    )
    spread_sd: float = param(
        0.1, "Sd of schools' initial engagement around the mean", unit="engagement", ge=0, le=0.5
    )
    dropout_floor: float = param(
        0.25, "Engagement below this counts toward dropping out", unit="engagement", ge=0, le=1
    )
    dropout_weeks: int = param(
        6, "Consecutive weeks below the floor before dropping out", unit="weeks", ge=1, le=520
    )


class OpeningParams(_Section):
    """Opening the network to other schools (rule 6)."""

    enabled: bool = Field(False, description="Schools outside the network may join")
    start_week: int = param(52, "First week in which schools may join", unit="week", ge=0, le=5200)
    join_rate: float = param(
        0.002, "Weekly probability an outside school asks to join", unit="per week", ge=0, le=1
    )
    mentor_min_capacity: float = param(
        0.6, "Adopters at or above this capacity may mentor", unit="capacity", ge=0, le=1
    )
    mentor_limit: int = param(4, "Most mentees a mentor takes", unit="schools", ge=1, le=1000)
    mode: Literal["auto", "in_person", "online"] = Field(
        "auto", description="Mode of new mentoring ties (auto: online for virtual, else in person)"
    )


class CostParams(_Section):
    """Prices (EUR) of everything the model books."""

    staff_hour_rate: float = param(
        24.0,
        "Staff time, in countries without an entry in staff_hour_rate_by_country",
        unit="EUR per hour",
        ge=0,
        le=10_000,
        source="the mean of the six MenSI countries' rates (STAFF_HOUR_RATE_BY_COUNTRY: "
        "EUR 23.5, rounded half up as they are); no rate was derived for other countries "
        "(docs/sources/staff_rates.md)",
    )
    staff_hour_rate_by_country: dict[str, float] = Field(
        default_factory=lambda: dict(STAFF_HOUR_RATE_BY_COUNTRY),
        description="Staff time per country code (opportunity cost of a teacher hour)",
        json_schema_extra={
            "unit": "EUR per hour",
            "source": "Eurydice statutory teacher salaries, see STAFF_HOUR_RATE_BY_COUNTRY",
        },
    )
    travel_per_km: float = param(0.30, "Travel, counted both ways", unit="EUR per km", ge=0, le=100)
    platform_per_school_year: float = param(
        500.0,
        "Online platform per school with online ties",
        unit="EUR per school-year",
        ge=0,
        le=1e7,
    )
    coordination_top_down: float = param(
        5000.0,
        "Coordination per top_down cluster",
        unit="EUR per cluster-year",
        ge=0,
        le=1e8,
        source="assumption: no source gives a coordination price (also hybrid's); about 94 % "
        "of the top-down pilot's cash (docs/ASSUMPTIONS.md 7.5; the PSAs draw it +-50 %)",
    )
    coordination_bottom_up: float = param(
        1000.0,
        "Coordination per bottom_up cluster",
        unit="EUR per cluster-year",
        ge=0,
        le=1e8,
        source="assumption: no source gives a coordination price "
        "(docs/ASSUMPTIONS.md 7.5; the PSAs draw it +-50 %)",
    )
    coordination_virtual: float = param(
        1500.0,
        "Coordination per virtual cluster",
        unit="EUR per cluster-year",
        ge=0,
        le=1e8,
        source="assumption: no source gives a coordination price "
        "(docs/ASSUMPTIONS.md 7.5; the PSAs draw it +-50 %)",
    )

    @model_validator(mode="after")
    def _check_rates(self) -> CostParams:
        for code, rate in self.staff_hour_rate_by_country.items():
            if not 0 <= rate <= 10_000:
                raise ValueError(
                    f"staff_hour_rate_by_country.{code}: {rate} outside 0 <= value <= 10000"
                )
        return self

    def hour_rate(self, country_code: str) -> float:
        """EUR per staff hour in a country (``staff_hour_rate`` where it has no entry)."""
        return self.staff_hour_rate_by_country.get(country_code, self.staff_hour_rate)


class IncentiveScheme(_Section):
    """An incentive scheme (rule 7): who gets what, when, and what it does to engagement.

    Its effect has a dose: the engagement target of a reached school rises by
    ``max_effect * A / (A + half_effect_amount)``, where A is the amount (per school, or per
    teacher when ``per = "teacher"``): diminishing returns, half the largest effect at
    ``half_effect_amount``. A scheme runs only while the programme does.
    """

    type: str = Field(
        ...,
        description="funding and release_time pay per school-year; recognition once; "
        "adoption_reward per adoption (a name in mensi_sim.registry.INCENTIVE_TYPES)",
        json_schema_extra={"unit": "", "source": "", "choices": "incentive types"},
    )
    target: TargetGroup = Field("participants", description="Schools the scheme reaches")
    amount: float | None = param(
        None,
        "Payment: per school-year (funding, release_time), once (recognition) or per adoption "
        "(adoption_reward), per school or per teacher; None: the type's default",
        unit="EUR",
        ge=0,
        le=1e8,
        source="assumption (release time: 0.1 FTE at the MenSI countries' mean hours x rate, "
        "EUR 3,600); the one per-school payment found: a one-off GBP 775 per mentor (EEF/NFER "
        "trial, no effect on mentors' training time; docs/sources/anchors.md)",
    )
    per: Literal["school", "teacher"] = Field(
        "school", description="Whether the amount is per school or per teacher of the school"
    )
    max_effect: float = param(
        0.2,
        "Largest raise of the engagement target of a reached school (at a very large amount)",
        unit="engagement",
        ge=-1,
        le=1,
        source="assumption: the default amount raises the target by 0.1",
    )
    half_effect_amount: float | None = param(
        None,
        "Amount at which the effect is half of max_effect (None: the type's default amount; "
        "required when per = teacher)",
        unit="EUR",
        gt=0,
        le=1e8,
    )
    start_week: int = param(0, "First week the scheme runs", unit="week", ge=0, le=5200)
    duration_weeks: int = param(52, "How long it runs", unit="weeks", ge=1, le=5200)

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        return _registered(INCENTIVE_TYPES, value, "type")

    @model_validator(mode="after")
    def _check_half_effect(self) -> IncentiveScheme:
        if self.per == "teacher" and self.half_effect_amount is None:
            raise ValueError("half_effect_amount: required when per = 'teacher'")
        return self

    @property
    def payment(self) -> float:
        """The amount in EUR (per school or per teacher), the type's default when not given."""
        return INCENTIVE_TYPES.get(self.type).default_amount if self.amount is None else self.amount

    @property
    def half_effect(self) -> float:
        """The amount at which the effect is half of ``max_effect``."""
        if self.half_effect_amount is not None:
            return self.half_effect_amount
        return INCENTIVE_TYPES.get(self.type).default_amount


class Scenario(BaseModel):
    """A complete, validated scenario. Build with ``load_scenario`` or ``Scenario(**dict)``."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    name: str = Field("scenario", min_length=1, description="Short identifier")
    description: str = Field("", description="One line shown by `mensi-sim scenarios`")
    time: TimeParams = Field(default_factory=TimeParams)
    population: PopulationParams = Field(default_factory=PopulationParams)
    network: NetworkParams = Field(default_factory=NetworkParams)
    contacts: ContactParams = Field(default_factory=ContactParams)
    learning: LearningParams = Field(default_factory=LearningParams)
    training: TrainingParams = Field(default_factory=TrainingParams)
    adoption: AdoptionParams = Field(default_factory=AdoptionParams)
    engagement: EngagementParams = Field(default_factory=EngagementParams)
    opening: OpeningParams = Field(default_factory=OpeningParams)
    programme: ProgrammeParams = Field(default_factory=ProgrammeParams)
    costs: CostParams = Field(default_factory=CostParams)
    incentives: list[IncentiveScheme] = Field(default_factory=list)
    source_path: str = Field("", description="Set by load_scenario: the file it came from")

    @model_validator(mode="before")
    @classmethod
    def _read_roster(cls, data: object) -> object:
        """With ``population.roster``: resolve its files against the scenario file's folder,
        read them (a one-line RosterError if they are bad) and take n_schools and countries
        from the roster."""
        if not isinstance(data, dict):
            return data
        pop = data.get("population")
        if isinstance(pop, PopulationParams):
            pop = pop.model_dump()
        if not isinstance(pop, dict) or not pop.get("roster"):
            return data
        files = pop["roster"] if isinstance(pop["roster"], list) else [pop["roster"]]
        if not all(isinstance(f, str) and f for f in files):
            return data  # the field's own validation names the problem
        folder = Path(str(data.get("source_path") or "")).parent
        resolved = [
            str(p if p.is_absolute() else (folder / p).resolve())
            for p in (Path(f).expanduser() for f in files)
        ]
        roster = read_roster(resolved)
        pop = {
            **pop,
            "roster": resolved if isinstance(pop["roster"], list) else resolved[0],
            "n_schools": roster.n,
            "countries": list(roster.country_codes),
            "country_weights": None,
        }
        return {**data, "population": pop}

    @model_validator(mode="after")
    def _check_cross_fields(self) -> Scenario:
        n = self.population.n_schools
        a = self.adoption
        if a.initial == "count" and a.initial_count > n:
            raise ValueError(f"adoption.initial_count: {a.initial_count} > n_schools = {n}")
        bad = [i for i in a.initial_ids if not 0 <= i < n]
        if bad:
            raise ValueError(f"adoption.initial_ids: {bad[0]} outside 0 <= id < {n}")
        if self.network.structure == "file" and not self.network.file:
            raise ValueError("network.file: required when structure = 'file'")
        unknown = [
            c for c in self.network.structure_by_country if c not in self.population.countries
        ]
        if unknown:
            raise ValueError(
                f"network.structure_by_country: {unknown[0]!r} is not a country of the "
                f"population ({', '.join(self.population.countries)})"
            )
        if self.network.structure_by_country and self.structure.family != "policy":
            raise ValueError(
                "network.structure_by_country: needs a policy structure as network.structure "
                f"(for the countries it does not name), not {self.network.structure!r}"
            )
        if self.network.structure == "file" and self.population.roster:
            raise ValueError(
                "population.roster: a roster cannot be combined with structure = 'file' "
                "(the network file brings its own schools)"
            )
        prog = self.programme
        if self.opening.enabled and self.opening.start_week >= prog.end_week:
            raise ValueError(
                f"opening.start_week: {self.opening.start_week}: schools join only while the "
                f"programme runs (programme.end_week = {prog.end_week})"
                if not prog.staged
                else f"opening.start_week: {self.opening.start_week}: schools join only while "
                f"their wave's window runs (weeks {prog.start_week}-{prog.end_week - 1} of "
                "each wave's calendar, shifted by 52 weeks a wave)"
            )
        if prog.staged:
            self._check_waves()
        for i, course in enumerate(self.training.courses):
            if not prog.start_week <= course.start_week < prog.end_week:
                raise ValueError(
                    f"training.courses.{i}.start_week: {course.start_week}: a course is part of "
                    f"the programme (weeks {prog.start_week} to {prog.end_week - 1})"
                )
        return self

    def _check_waves(self) -> None:
        """A staged roll-out needs a policy structure, every wave starting before the
        horizon and (generated schools) every region in one wave; a roster's regions are
        checked when its schools are read (``MentoringModel``)."""
        prog, pop = self.programme, self.population
        if self.structure.family != "policy":
            raise ValueError(
                f"programme.waves: needs a policy structure, not {self.network.structure!r} "
                "(a research graph is no programme)"
            )
        last = prog.start_week + prog.wave_offset(prog.n_waves - 1)
        if last >= self.time.steps:
            raise ValueError(
                f"programme.waves.{prog.n_waves - 1}: starts in week {last}, at or after the "
                f"horizon (time.steps = {self.time.steps})"
            )
        if not pop.roster:
            r = pop.regions_per_country
            names = [f"{code}-{k + 1}" for code in pop.countries for k in range(r)]
            region_waves(prog.waves, pop.countries, names, [i // r for i in range(len(names))])

    def __repr__(self) -> str:
        from mensi_sim.scenario.display import scenario_repr

        return scenario_repr(self)

    def _repr_html_(self) -> str:
        """A compact table in a notebook: structure, schools, weeks, rule, incentives."""
        from mensi_sim.scenario.display import scenario_html

        return scenario_html(self)

    def with_updates(self, updates: dict) -> Scenario:
        """A copy with dotted-path updates applied and validated, e.g. ``{"adoption.p": 0.01}``;
        a number indexes a list (``{"training.courses.0.completion_prob": 0.8}``)."""
        data = self.model_dump()
        for path, value in updates.items():
            node = data
            keys = path.split(".")
            for key in keys[:-1]:
                if isinstance(node, list) and key.isdigit() and int(key) < len(node):
                    node = node[int(key)]  # an item of a list: "training.courses.0.fee"
                    continue
                if not isinstance(node, dict) or key not in node:
                    raise KeyError(f"unknown parameter {path!r}")
                if not isinstance(node[key], dict | list):
                    raise KeyError(f"unknown parameter {path!r}")
                node = node[key]
            if not isinstance(node, dict) or keys[-1] not in node:
                raise KeyError(f"unknown parameter {path!r}")
            node[keys[-1]] = value
        return Scenario.model_validate(data)

    @property
    def structure(self):  # noqa: ANN201 - mensi_sim.registry.Structure
        """The registry entry of ``network.structure``."""
        return STRUCTURES.get(self.network.structure)

    @property
    def participation(self) -> Literal["voluntary", "compulsory"]:
        """Whether taking part is voluntary or compulsory (the structure's default for auto)."""
        return self.participation_under(self.structure)

    def participation_under(self, structure) -> Literal["voluntary", "compulsory"]:  # noqa: ANN001
        """Participation under a structure (a registry entry): ``engagement.participation``
        unless it is auto, else the structure's default."""
        if self.engagement.participation != "auto":
            return self.engagement.participation
        return structure.participation

    @property
    def has_community(self) -> bool:
        """Whether an online community of practice links the participants."""
        return self.community_under(self.structure)

    def community_under(self, structure) -> bool:  # noqa: ANN001 - a registry Structure
        """Whether a community of practice links a structure's participants:
        ``network.community`` unless it is None, else the structure's default."""
        if self.network.community is not None:
            return self.network.community
        return structure.community

    def structure_of(self, country_code: str):  # noqa: ANN201 - a registry Structure
        """The registry entry of the structure a country's schools are organised by."""
        return STRUCTURES.get(
            self.network.structure_by_country.get(country_code, self.network.structure)
        )
