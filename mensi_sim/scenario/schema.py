"""The scenario schema: every parameter of the model, declared once.

Each field has a default, a unit, its allowed range and, where the default comes
from a source, the source (see ``mensi_sim.scenario.fields.param``). Unknown keys,
wrong types and out-of-range values are errors (``extra="forbid"``, ``strict=True``).
docs/ODD.md lists the same parameters; ``python -m mensi_sim.scenario.reference`` prints them.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from mensi_sim.scenario.fields import param

WEEKS_PER_YEAR = 52

POLICY_STRUCTURES = ("none", "top_down", "bottom_up", "virtual", "hybrid")
RESEARCH_GRAPHS = (
    "complete",
    "erdos_renyi",
    "watts_strogatz",
    "ring_lattice",
    "random_regular",
    "barabasi_albert",
    "star",
    "file",
)
StructureName = Literal[
    "none",
    "top_down",
    "bottom_up",
    "virtual",
    "hybrid",
    "complete",
    "erdos_renyi",
    "watts_strogatz",
    "ring_lattice",
    "random_regular",
    "barabasi_albert",
    "star",
    "file",
]
TargetGroup = Literal["mentors", "mentees", "participants", "outside", "all"]

MENSI_COUNTRIES = ["BE-VLG", "HR", "CZ", "HU", "IT", "PT"]

# Default payment per incentive type, EUR (assumptions; DESIGN.md section 2):
INCENTIVE_DEFAULT_AMOUNT = {
    "funding": 3000.0,  # per school-year
    "recognition": 200.0,  # once
    "release_time": 4000.0,  # per school-year: 0.1 FTE = 16 staff days at EUR 250
    "adoption_reward": 2000.0,  # per adopting school
}


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class TimeParams(_Section):
    """Calendar: one step is one week; the run starts in the first week of September."""

    steps: int = param(52, "Number of weeks simulated", unit="weeks", ge=1, le=5200)
    term_weeks: int = param(
        36, "School weeks per year (mentoring happens only in term)", unit="weeks", ge=0, le=52
    )


class PopulationParams(_Section):
    """Generated school attributes."""

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
        25.0,
        "Median teachers per school (lognormal)",
        unit="teachers",
        gt=0,
        le=1000,
        source="EU: 5.26 million teachers / ~250,000 schools = about 21 per school",
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
    capacity_mean_mentor: float = param(
        0.75,
        "Mean initial capacity of mentor schools (Beta; SELFIE about 4.0)",
        unit="capacity",
        gt=0,
        lt=1,
        source="assumption: mentors were chosen as digitally advanced",
    )
    capacity_mean_mentee: float = param(
        0.45,
        "Mean initial capacity of mentee schools (SELFIE about 2.8)",
        unit="capacity",
        gt=0,
        lt=1,
    )
    capacity_mean_other: float = param(
        0.40,
        "Mean initial capacity of other schools (SELFIE about 2.6)",
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

    @model_validator(mode="after")
    def _check_countries(self) -> PopulationParams:
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
        for role in ("mentor", "mentee", "other"):
            mean = getattr(self, f"capacity_mean_{role}")
            if self.capacity_sd**2 >= mean * (1 - mean):
                raise ValueError(
                    f"capacity_sd: {self.capacity_sd} too large for capacity_mean_{role} = {mean}"
                )
        if self.disadvantaged_sd**2 >= self.disadvantaged_mean * (1 - self.disadvantaged_mean):
            raise ValueError("disadvantaged_sd: too large for disadvantaged_mean (Beta impossible)")
        return self


class NetworkParams(_Section):
    """Which structure ties the schools, and the parameters of each builder."""

    structure: StructureName = Field(
        "top_down",
        description="Policy structure or research graph",
        json_schema_extra={"unit": "", "source": "MenSI pilot: regional hubs"},
    )
    mentors_per_region: int = param(
        1,
        "Mentor schools designated per region (top_down, hybrid)",
        unit="schools",
        ge=1,
        le=10_000,
        source="MenSI pilot: 1 mentor per region",
    )
    mentees_per_mentor: int = param(
        4,
        "Mentees assigned to each mentor, k (top_down, hybrid)",
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
        "(None: on for virtual and hybrid, off otherwise)",
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
    proximity: bool = Field(True, description="Add weak informal ties to nearby schools")
    proximity_radius_km: float = param(
        10.0, "Proximity ties link schools closer than this", unit="km", gt=0, le=1000
    )
    proximity_max_ties: int = param(
        5, "Most proximity ties per school (nearest first)", unit="ties", ge=1, le=100
    )


class ContactParams(_Section):
    """Meeting rates and tie strengths by tie kind and mode."""

    rate_in_person: float = param(
        0.25,
        "Meetings per term week of an in-person mentoring tie",
        unit="per term week",
        ge=0,
        le=1,
        source="assumption: about monthly; Italy's clusters held regional visits",
    )
    rate_online: float = param(
        0.5, "Meetings per term week of an online mentoring tie", unit="per term week", ge=0, le=1
    )
    rate_peer: float = param(
        0.25, "Meetings per term week of a peer tie", unit="per term week", ge=0, le=1
    )
    rate_community: float = param(
        0.1,
        "Meetings per term week of a community-of-practice tie",
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
    staff_hours_in_person: float = param(
        12.0,
        "Staff time of one in-person meeting, both schools together",
        unit="hours",
        ge=0,
        le=200,
    )
    staff_hours_online: float = param(
        3.0, "Staff time of one online meeting, both schools together", unit="hours", ge=0, le=200
    )


class LearningParams(_Section):
    """Capacity learning in meetings (rule 2)."""

    enabled: bool = Field(True, description="Mentoring changes capacity")
    rate: float = param(
        0.19,
        "Learning rate lambda per meeting",
        unit="per meeting",
        ge=0,
        le=1,
        source="calibrated: on scenarios/top_down.toml a mentee closes about a quarter of its "
        "gap to its mentor in one school year (mensi_sim.calibration, 40 replicates: 0.19)",
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
    cost_per_participant: float = param(0.0, "Fee per enrolled school", unit="EUR", ge=0, le=1e7)
    staff_hours: float = param(
        20.0, "Staff time per enrolled school", unit="hours", ge=0, le=10_000
    )


class TrainingParams(_Section):
    """Configured courses (rule 3)."""

    courses: list[Course] = Field(default_factory=list, description="Courses offered")


class AdoptionParams(_Section):
    """Adoption and abandonment of the practice (rule 4)."""

    rule: Literal["bass", "threshold"] = Field("bass", description="Adoption rule")
    p: float = param(
        0.03 / WEEKS_PER_YEAR,
        "Bass innovation coefficient",
        unit="per week",
        ge=0,
        le=1,
        source="Sultan, Farley & Lehmann 1990: p = 0.03 per year",
    )
    q: float = param(
        0.38 / WEEKS_PER_YEAR,
        "Bass imitation coefficient",
        unit="per week",
        ge=0,
        le=10,
        source="Sultan, Farley & Lehmann 1990: q = 0.38 per year",
    )
    theta: float = param(
        1.0, "Capacity exponent: g(c) = c^theta (0: capacity irrelevant)", unit="", ge=0, le=10
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
        "the most capable share (by capacity as an ordinary school, so the same schools under "
        "every structure); the mentors; or listed ids",
    )
    initial_share: float = param(
        0.2,
        "initial = 'share' or 'most_capable': share adopted at start",
        unit="share",
        ge=0,
        le=1,
        source="assumption: as many as the 24 MenSI mentor schools among 120",
    )
    initial_count: int = param(
        0, "initial = 'count': schools adopted at start", unit="schools", ge=0, le=2_000_000
    )
    initial_ids: list[int] = Field(
        default_factory=list, description="initial = 'ids': school ids adopted at start"
    )


class EngagementParams(_Section):
    """Motivation to take part, incentives and dropout (rule 5)."""

    enabled: bool = Field(True, description="Engagement varies (off: everyone fully engaged)")
    participation: Literal["auto", "voluntary", "compulsory"] = Field(
        "auto", description="auto: compulsory for top_down and hybrid, voluntary otherwise"
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
        35.0, "Staff time", unit="EUR per hour", ge=0, le=10_000, source="assumption"
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
        5000.0, "Coordination per top_down cluster", unit="EUR per cluster-year", ge=0, le=1e8
    )
    coordination_bottom_up: float = param(
        1000.0, "Coordination per bottom_up cluster", unit="EUR per cluster-year", ge=0, le=1e8
    )
    coordination_virtual: float = param(
        1500.0, "Coordination per virtual cluster", unit="EUR per cluster-year", ge=0, le=1e8
    )


class IncentiveScheme(_Section):
    """An incentive scheme (rule 7): who gets what, when, and what it does to engagement."""

    type: Literal["funding", "recognition", "release_time", "adoption_reward"] = Field(
        ...,
        description="funding and release_time pay per school-year; recognition once; "
        "adoption_reward per adoption",
    )
    target: TargetGroup = Field("participants", description="Schools the scheme reaches")
    amount: float | None = param(
        None,
        "Payment: per school-year (funding, release_time), once (recognition) or per adoption "
        "(adoption_reward); None takes the type's default from INCENTIVE_DEFAULT_AMOUNT",
        unit="EUR",
        ge=0,
        le=1e8,
        source="assumption; England's teaching-school grant was £60,000 per alliance",
    )
    effect: float = param(
        0.1, "Raise of the engagement target of reached schools", unit="engagement", ge=-1, le=1
    )
    start_week: int = param(0, "First week the scheme runs", unit="week", ge=0, le=5200)
    duration_weeks: int = param(52, "How long it runs", unit="weeks", ge=1, le=5200)

    @property
    def payment(self) -> float:
        """The amount in EUR, the type's default when the file gives none."""
        return INCENTIVE_DEFAULT_AMOUNT[self.type] if self.amount is None else self.amount


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
    costs: CostParams = Field(default_factory=CostParams)
    incentives: list[IncentiveScheme] = Field(default_factory=list)
    source_path: str = Field("", description="Set by load_scenario: the file it came from")

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
        return self

    def with_updates(self, updates: dict) -> Scenario:
        """A copy with dotted-path updates applied and validated, e.g. ``{"adoption.p": 0.01}``."""
        data = self.model_dump()
        for path, value in updates.items():
            node = data
            keys = path.split(".")
            for key in keys[:-1]:
                if key not in node or not isinstance(node[key], dict):
                    raise KeyError(f"unknown parameter {path!r}")
                node = node[key]
            if keys[-1] not in node:
                raise KeyError(f"unknown parameter {path!r}")
            node[keys[-1]] = value
        return Scenario.model_validate(data)

    @property
    def participation(self) -> Literal["voluntary", "compulsory"]:
        """Whether taking part is voluntary or compulsory under this scenario."""
        if self.engagement.participation != "auto":
            return self.engagement.participation
        return "compulsory" if self.network.structure in ("top_down", "hybrid") else "voluntary"

    @property
    def has_community(self) -> bool:
        """Whether an online community of practice links the participants."""
        if self.network.community is not None:
            return self.network.community
        return self.network.structure in ("virtual", "hybrid")
