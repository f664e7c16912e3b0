"""`MentoringModel`: the Mesa model that wires population, network and rules together."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

import mesa
import numpy as np
import pandas as pd

from mensi_sim.agents import School
from mensi_sim.codes import (
    COST_CATEGORIES,
    KIND_MENTORING,
    KIND_PROXIMITY,
    MODE_IN_PERSON,
    MODE_ONLINE,
    ROLE_MENTEE,
    ROLE_MENTOR,
    ROLE_NAMES,
    ROLE_NONE,
)
from mensi_sim.collector import StepCollector
from mensi_sim.dynamics import (
    adoption,
    contacts,
    costs,
    engagement,
    incentives,
    learning,
    opening,
    programme,
    training,
)
from mensi_sim.errors import ScenarioError
from mensi_sim.groups import GroupTracker, Snapshot, group_keys, group_outcomes
from mensi_sim.metrics import STEP_METRICS, MetricsRecorder
from mensi_sim.networks import country_structures
from mensi_sim.population import Population
from mensi_sim.registry import ADOPTION_RULES
from mensi_sim.scenario.schema import WEEKS_PER_YEAR, Scenario, region_waves
from mensi_sim.seeds import CountryDraws, SeedLike, country_generators, run_streams
from mensi_sim.state import SchoolState
from mensi_sim.ties import TieTable, cluster_countries, cluster_mentors, cluster_modes
from mensi_sim.world import build_world


class MentoringModel(mesa.Model):
    """Schools learning from each other in a mentoring network, one step per week.

    Every school is a ``School`` agent in ``model.agents``, created the first time
    ``model.agents`` (or ``agents_by_type``, ``agent_types``) is read, so that a run that
    never asks for them (a sweep, a benchmark) does not pay for a million Python objects;
    a school's attributes are views of the arrays in ``model.state`` (``SchoolState``),
    so agents created at any week show that week's state. Every tie is an entry of
    ``model.ties`` (``TieTable``). A step runs these rules in order, each a vectorised
    function over all schools and ties (``mensi_sim.dynamics``), each drawing from its own
    random stream. The step is synchronous: every rule reads the state at week t; the new
    state is written together at the end.

    0. Programme: before its start, running, or after its end; in the first week after
       the end, each cluster draws whether it goes on (unfunded, at a reduced rate). A
       staged roll-out (``programme.waves``) gives each wave of regions its own window,
       ``52 k`` weeks after the first (``dynamics.programme``): a cluster follows its
       mentor's region, a school its cluster's (else its region's) window.
    1. Contacts: each cluster meets as one event at its mode's rate, each other open tie
       on its own (term weeks only); delegates' staff hours (valued at the country's hour
       rate) and travel (cash, while funded) are booked per participating school.
    2. Learning: in a meeting the less capable side gains
       ``lambda * strength * e_i * e_j * absorb_j * reach_j * (c_i - c_j)+ / dilution``
       (``e`` the engagement each brings to the tie: on a proximity tie the one it would
       have outside the programme); the teacher learns back (reciprocity); without
       contact capacity drifts to baseline.
    3. Training: courses enrol at their start and complete at their end, raising capacity.
    4. Adoption: the scenario's rule from the registry; by default ``contact``, adopt with
       ``1 - exp(-r(c) (p + exposure * E))``, E the strength of this week's meetings with
       adopters; adopters abandon with probability ``r (1 - c)``.
    5. Engagement: relaxes toward a target (participation, incentives with a dose, mentor
       fatigue); members below the floor for ``dropout_weeks`` drop out, their ties go quiet.
    6. Opening up: while the programme runs, from ``opening.start_week``, outside schools
       join capable adopters.
    7. Incentives pay out; coordination and platform are booked while the programme runs.

    Rules 1-5 and 7 read the state at t; the state at t + 1 is then written, and rule 6
    runs last on it, so schools that join this week meet from next week on.

    ``model.datacollector`` is a Mesa ``DataCollector`` (``collector.StepCollector``) of the
    step metrics, so ``mesa.batch_run(MentoringModel, {"scenario": [sc]}, rng=[1, 2])``
    works; ``running`` turns False after ``time.steps`` weeks.

    Args:
        scenario: A validated Scenario.
        rng: An int seed, a ``numpy.random.SeedSequence`` or None (fresh entropy). It is
            split into separate streams for the population, the networks and each rule of
            the dynamics (``mensi_sim.seeds.run_streams``); ``model.rng`` is Mesa's stream.
        agent_reporters: Mesa agent reporters for ``model.datacollector`` (default none:
            reading every school every week is slow).
    """

    def __init__(
        self,
        scenario: Scenario,
        rng: SeedLike = None,
        *,
        agent_reporters: Mapping[str, Any] | None = None,
    ) -> None:
        streams = run_streams(rng)
        super().__init__(rng=streams.dynamics)
        self.spec = scenario
        self.streams = streams.rules
        self.structure = scenario.structure
        self.week = 0
        population, network = build_world(scenario, streams.population, streams.network)
        self.population: Population = population
        n = population.n
        role = network.role.copy()
        # the structure of each country (one and the same without structure_by_country)
        by_country = country_structures(scenario, population)
        self._programme = any(s.programme for s in by_country)
        self.ties = TieTable.build(
            network.src,
            network.dst,
            network.kind,
            network.mode,
            network.strength,
            population.x,
            population.y,
            role,
            network.cluster,
            self._programme,
        )
        self._n_clusters = int(
            max(network.cluster.max(initial=-1), self.ties.event.max(initial=-1))
        )
        self._n_clusters += 1
        self._cluster_mode = cluster_modes(self.ties, self._n_clusters)
        self._cluster_mentor = cluster_mentors(self.ties, self._n_clusters)
        # the rules that draw cluster by cluster draw country by country, from a generator
        # per country under their stream (seeds.country_generators): a country's clusters
        # meet and go on on the same numbers whatever another country's structure is
        self._n_countries = len(population.country_codes)
        self.country_streams = {
            name: country_generators(self.streams[name], self._n_countries)
            for name in ("contacts", "programme")
        }
        self._cluster_country = cluster_countries(
            self._cluster_mentor, network.cluster, population.country
        )
        self._sustained = np.zeros(self._n_clusters, dtype=bool)
        prog = scenario.programme
        self._staged = prog.staged
        if self._staged:  # per region, cluster and school: the wave whose window it follows
            self._region_wave = self._wave_of_regions(scenario, population)[population.region]
            self._cluster_wave = programme.cluster_waves(
                self._cluster_mentor, network.cluster, self._region_wave
            )
            self._school_wave = self._region_wave.copy()
        member = (role != ROLE_NONE) | self._has_programme_tie(n)
        capacity = population.capacity.astype(float)
        # compulsory participation binds the schools the structure assigned; every other
        # school (outside the programme, or joining it) acts on its own, as a volunteer
        compulsory = np.array([scenario.participation_under(s) == "compulsory" for s in by_country])
        self._assigned = member & compulsory[population.country]
        eng = scenario.engagement
        if eng.enabled:
            mean = np.where(self._assigned, eng.initial_compulsory, eng.initial_voluntary)
            e0 = engagement.initial_engagement(n, mean, eng.spread_sd, population.motivation)
        else:
            e0 = np.ones(n)
        initial = self.streams["initial"]
        self.state = SchoolState(
            capacity=capacity.copy(),
            baseline=capacity.copy(),
            adopted=adoption.initial_adopters(
                n, scenario.adoption, role == ROLE_MENTOR, capacity, initial
            ),
            engagement=e0,
            active=np.ones(n, dtype=bool),
            member=member,
            role=role,
            cluster=network.cluster.copy(),
            weeks_below=np.zeros(n, dtype=np.int32),
            threshold=adoption.draw_thresholds(n, scenario.adoption, initial),
            cost=np.zeros((n, len(COST_CATEGORIES)), order="F"),
            staff_hours=np.zeros(n),
        )
        self._absorb = learning.absorption(
            population.disadvantaged, scenario.learning.disadvantaged_absorption
        )
        self._delegates = contacts.delegates(population.teachers, scenario.contacts)
        self._reach = learning.staff_reach(population.teachers, self._delegates, scenario.contacts)
        rate_of_country = np.array(
            [scenario.costs.hour_rate(code) for code in population.country_codes], dtype=float
        )
        self._hour_rate = rate_of_country[population.country]
        self._disadvantaged = population.disadvantaged >= scenario.population.disadvantaged_cutoff
        self._metrics = MetricsRecorder(self._disadvantaged)
        self._base_target = np.where(self._assigned, eng.target_compulsory, eng.target_voluntary)
        # the engagement schools bring to their informal proximity ties: what they would
        # have outside the programme (dynamics.engagement); kept apart from ``engagement``
        # only for the programme's members, once there are any, and only where it is read
        self._track_informal = (
            eng.enabled
            and scenario.learning.enabled
            and bool(np.any(self.ties.kind == KIND_PROXIMITY))
        )
        self._informal_engagement: np.ndarray | None = None
        if self._track_informal and member.any():
            self._informal_engagement = engagement.initial_engagement(
                n, eng.initial_voluntary, eng.spread_sd, population.motivation
            )
        self._informal_ids = np.flatnonzero(member)
        # enrolled schools per (course, wave) (wave 0 only without a staged roll-out)
        self._enrolled: dict[tuple[int, int], np.ndarray] = {}
        rates = np.array(
            [costs.rate_pair(costs.coordination_rate(s, scenario.costs)) for s in by_country]
        )
        # EUR per cluster-year by mentor: (in person, online); equal unless its country's
        # structure prices each cluster by its mode (designed); the rows gathered by np.take,
        # the same array as rates[country] (a million schools' rows in 2.5 ms, not 13 ms)
        self._coordination_rate = np.take(rates, population.country, axis=0)
        self._opening_mode = self._new_tie_mode()
        self._phase = programme.wave_phases(0, prog) if self._staged else programme.phase(0, prog)
        self._dropouts = 0
        self._meetings = 0
        self._refresh_ties()
        self._courses_enrolled = self._courses_completed = 0
        # the mentee-mentor pairs of week 0 with a gap above 0.05, for the gap closure metric
        # (calibration.mentee_gap_closure's definition)
        mentoring = self.ties.kind == KIND_MENTORING
        mentor, mentee = self.ties.src[mentoring], self.ties.dst[mentoring]
        gap = self.state.capacity[mentor] - self.state.capacity[mentee]
        self._gap_mentee, self._gap = mentee[gap > 0.05], gap[gap > 0.05]
        self._gap_start = self.state.capacity[self._gap_mentee].copy()
        self._records: list[np.ndarray] = []
        keys = group_keys(population, scenario.population.disadvantage_bands)
        self._groups = GroupTracker(keys, prog.start_week, prog.last_end_week)
        self._record()
        self._schools_pending = True  # School agents: created when first asked for
        self._collector = StepCollector(agent_reporters)
        if agent_reporters:  # reading the agents creates them
            self._collector.collect(self)

    # ---- the Mesa face ----------------------------------------------------------------
    def _create_schools(self) -> None:
        """Create the School agents (once): one per school, ``index`` its array slot."""
        if getattr(self, "_schools_pending", False):
            self._schools_pending = False
            School.create_agents(self, self.state.n, index=list(range(self.state.n)))

    @property
    def agents(self) -> mesa.agent.AgentSet:
        """Every agent of the model (Mesa's ``Model.agents``): the School agents, created
        on the first read."""
        self._create_schools()
        return mesa.Model.agents.fget(self)

    @property
    def agents_by_type(self) -> dict:
        """Mesa's ``Model.agents_by_type``, with the School agents created."""
        self._create_schools()
        return mesa.Model.agents_by_type.fget(self)

    @property
    def agent_types(self) -> list[type]:
        """Mesa's ``Model.agent_types``, with the School agents created."""
        self._create_schools()
        return mesa.Model.agent_types.fget(self)

    # ---- ties -------------------------------------------------------------------------
    @property
    def tie_src(self) -> np.ndarray:
        """``ties.src`` (kept for readers of the earlier loose arrays)."""
        return self.ties.src

    @property
    def tie_dst(self) -> np.ndarray:
        """``ties.dst``."""
        return self.ties.dst

    @property
    def tie_kind(self) -> np.ndarray:
        """``ties.kind``."""
        return self.ties.kind

    @property
    def tie_mode(self) -> np.ndarray:
        """``ties.mode``."""
        return self.ties.mode

    @property
    def tie_strength(self) -> np.ndarray:
        """``ties.strength``."""
        return self.ties.strength

    def _has_programme_tie(self, n: int) -> np.ndarray:
        has = np.zeros(n, dtype=bool)
        formal = self.ties.formal
        has[self.ties.src[formal]] = True
        has[self.ties.dst[formal]] = True
        return has

    def _refresh_ties(self) -> None:
        """Recompute what depends on ties, activity and the programme's phase (only when
        one changes): open ties, mentor loads, platform users and coordinated mentors,
        rates, the meeting plan and prices, the engagement target without incentives; the
        influence matrix of the open ties is built when a rule first asks for it."""
        n, ties, sc, st = self.state.n, self.ties, self.spec, self.state
        window = None
        if self._staged:
            self._school_wave = programme.school_waves(
                st.cluster, self._cluster_wave, self._region_wave
            )
            window = programme.staged_window(
                ties,
                self._phase,
                self._cluster_wave,
                self._school_wave,
                self._sustained,
                sc.programme,
            )
            allowed = window.open
        else:
            allowed = programme.programme_open(ties, self._phase, self._sustained)
        self._open = contacts.tie_open(ties, st.active, allowed)
        self._load = learning.mentor_load(ties, self._open, n)
        if window is not None:  # the platform of the open ties whose window runs
            self._uses_platform = costs.online_schools(n, ties, self._open & window.funded)
            coordinated = costs.coordinated_mentors(st.role, st.active) & window.school_running
        else:
            running = self._phase == "running"
            self._uses_platform = (
                costs.online_schools(n, ties, self._open) if running else np.zeros(n, dtype=bool)
            )
            coordinated = costs.coordinated_mentors(st.role, st.active)
        self._platform_users = np.flatnonzero(self._uses_platform)
        self._coordinated = np.flatnonzero(coordinated)
        # each coordinated mentor's weekly price: its country's structure's rate, in person or
        # online by the mode of its cluster (one price for both unless designed)
        rate = costs.mentor_rate(self._coordination_rate, st.cluster, self._cluster_mode)
        self._coordination_week = np.asarray(rate)[self._coordinated] / WEEKS_PER_YEAR
        self._cluster_rate = contacts.cluster_rates(self._cluster_mode, sc.contacts)
        self._cluster_scale = (
            window.scale
            if window is not None
            else programme.cluster_scale(self._phase, self._sustained, sc.programme)
        )
        self._pair_rate = contacts.pairwise_rates(ties, sc.contacts)
        self._plan = contacts.plan_meetings(
            ties,
            self._open,
            self._cluster_rate,
            self._cluster_scale,
            self._cluster_mentor,
            st.active,
            self._pair_rate,
            self._cluster_country,
            self.population.country,
            self._n_countries,
        )
        self._funded = window.funded if window is not None else ~ties.programme | running
        self._school_running = window.school_running if window is not None else None
        self._prices = contacts.meeting_prices(
            ties,
            self._open,
            self._n_clusters,
            self._delegates,
            self._funded,
            sc.contacts,
            sc.costs.travel_per_km,
        )
        if sc.engagement.enabled:  # the target when no incentive runs (the usual week)
            self._plain_target = engagement.engagement_target(
                self._base_target, 0.0, self._load, sc.engagement.fatigue_per_mentee
            )
        self._neighbour_matrix: tuple | None = None

    def _neighbours(self) -> tuple:
        """(influence matrix of the open ties, its row sums), built on first use after a
        change of the ties (the bass and threshold rules read it; the contact rule not)."""
        if self._neighbour_matrix is None:
            ties = self.ties
            influence = adoption.influence_matrix(
                self.state.n, ties.src, ties.dst, ties.strength * self._open
            )
            self._neighbour_matrix = (influence, np.asarray(influence.sum(axis=1)).ravel())
        return self._neighbour_matrix

    @property
    def _influence(self):
        """The influence matrix of the open ties (``adoption.influence_matrix``)."""
        return self._neighbours()[0]

    @property
    def _weighted_degree(self) -> np.ndarray:
        """Row sums of the influence matrix."""
        return self._neighbours()[1]

    def _new_tie_mode(self) -> int:
        mode = self.spec.opening.mode
        if mode == "auto":
            return MODE_ONLINE if self.structure.modes == ("online",) else MODE_IN_PERSON
        return MODE_ONLINE if mode == "online" else MODE_IN_PERSON

    # ---- time -------------------------------------------------------------------------
    @property
    def week_of_year(self) -> int:
        """Week of the school year of the coming step (0 = first week of September)."""
        return self.week % WEEKS_PER_YEAR

    @property
    def in_term(self) -> bool:
        """Whether the coming step is a school week."""
        return self.week_of_year < self.spec.time.term_weeks

    @property
    def programme_running(self) -> bool:
        """Whether the programme runs in the coming step (in some wave's window)."""
        return programme.any_running(programme.wave_phases(self.week, self.spec.programme))

    @staticmethod
    def _wave_of_regions(scenario: Scenario, population: Population) -> np.ndarray:
        """The wave of each region id (``schema.region_waves``); regions without schools
        may be left out. ScenarioError (one line) on a bad ``programme.waves``."""
        n_regions = max(population.n_regions, len(population.region_names))
        names = [population.region_label(r) for r in range(n_regions)]
        country = np.full(n_regions, -1, dtype=np.int64)
        country[population.region] = population.country
        empty = np.bincount(population.region, minlength=n_regions) == 0
        try:
            wave = region_waves(
                scenario.programme.waves,
                list(population.country_codes),
                names,
                country.tolist(),
                optional=empty.tolist(),
            )
        except ValueError as exc:
            raise ScenarioError(f"{scenario.source_path or scenario.name}: {exc}") from None
        return np.maximum(np.asarray(wave, dtype=np.int64), 0)

    def _waves_now(self, week: int) -> list[tuple[int, int, np.ndarray | None]]:
        """(wave, week within its window's calendar, its schools or None for all): one entry
        ``(0, week, None)`` without a staged roll-out."""
        if not self._staged:
            return [(0, week, None)]
        prog = self.spec.programme
        return [
            (k, week - prog.wave_offset(k), self._school_wave == k) for k in range(prog.n_waves)
        ]

    # ---- one step ---------------------------------------------------------------------
    def step(self) -> None:
        """Advance one week; the rule order is the class docstring's."""
        sc, st, week, ties = self.spec, self.state, self.week, self.ties
        n = st.n

        # 0. programme phase (one per wave in a staged roll-out)
        now = (
            programme.wave_phases(week, sc.programme)
            if self._staged
            else programme.phase(week, sc.programme)
        )
        if now != self._phase:
            if self._staged:
                for k, (was, phase) in enumerate(zip(self._phase, now, strict=True)):
                    if phase == "after" and was != "after":  # wave k's clusters draw
                        self._sustained = programme.draw_sustained_wave(
                            self._sustained,
                            self._cluster_wave,
                            k,
                            sc.programme,
                            self._cluster_draws(),
                            self.country_streams["programme"],
                        )
            elif now == "after":
                self._sustained = programme.draw_sustained(
                    self._cluster_draws(), sc.programme, self.country_streams["programme"]
                )
            self._phase = now
            self._refresh_ties()
        running = programme.any_running(now) if self._staged else now == "running"
        load = self._load
        waves = self._waves_now(week)

        # 1. contacts
        meetings = contacts.draw_meetings(
            self._plan, self.in_term, self.country_streams["contacts"], self.streams["informal"]
        )
        paid = contacts.week_costs(self._prices, meetings, n)
        st.book_time_at(paid.school, paid.hours, self._hour_rate)
        st.book_at("travel", paid.traveller, paid.travel_eur)
        self._meetings = contacts.meeting_count(ties, meetings)

        # 2. learning
        change = None
        if sc.learning.enabled:
            change = learning.learning_change(
                ties,
                meetings.tie,
                st.capacity,
                st.baseline,
                st.engagement,
                self._absorb,
                self._reach,
                load,
                sc.learning,
                self._informal_engagement,
            )

        # 3. training
        baseline_change = None
        for (i, course), (k, local, in_wave) in itertools.product(
            enumerate(sc.training.courses), waves
        ):
            if local == course.start_week:
                offered = incentives.target_group(course.target, st.role, st.member) & st.active
                if in_wave is not None:  # a wave's course is offered to its schools
                    offered &= in_wave
                self._enrolled[i, k] = training.course_enrolment(
                    offered, course, self.streams["training"]
                )
                enrolled = np.flatnonzero(self._enrolled[i, k])
                self._courses_enrolled += int(enrolled.size)
                st.book_at("training", enrolled, course.cost_per_participant)
                st.book_time_at(enrolled, course.staff_hours, self._hour_rate)
            if local == course.start_week + course.duration_weeks - 1:
                done = training.course_completion(
                    self._enrolled.get((i, k), np.zeros(n, dtype=bool)) & st.active,
                    course,
                    self.streams["training"],
                )
                self._courses_completed += int(np.count_nonzero(done))
                if change is None:
                    change = np.zeros(n)
                if baseline_change is None:
                    baseline_change = np.zeros(n)
                change += training.completion_gain(st.capacity, done, course)
                baseline_change += training.completion_gain(st.baseline, done, course)

        # 4. adoption (reads capacity and adoption at t)
        inputs = adoption.AdoptionInputs(
            adopted=st.adopted,
            capacity=st.capacity,
            threshold=st.threshold,
            exposure=adoption.contact_exposure(ties, meetings.tie, st.adopted),
            neighbours=self._neighbours,
        )
        rule = ADOPTION_RULES.get(sc.adoption.rule)
        adopts, abandons = rule.step(inputs, sc.adoption, self.streams["adoption"])

        # 5. engagement
        new_engagement, drops, informal_next = st.engagement, None, None
        # the schemes running in each wave's window, on its schools (every school: one entry)
        running_schemes = [
            (local, st.active if in_wave is None else st.active & in_wave, schemes)
            for _, local, in_wave in waves
            if (schemes := incentives.running_schemes(sc.incentives, local, sc.programme))
        ]
        if sc.engagement.enabled:
            ep = sc.engagement
            if running_schemes:
                effect = sum(
                    incentives.incentive_effect(
                        schemes, local, sc.programme, st.role, st.member, active
                    )
                    for local, active, schemes in running_schemes
                )
                target = engagement.engagement_target(
                    self._base_target, effect, load, ep.fatigue_per_mentee
                )
            else:
                target = self._plain_target
            new_engagement = engagement.relax_engagement(st.engagement, target, ep.relax_rate)
            if self._informal_engagement is not None:  # the members' informal engagement
                ids = self._informal_ids
                informal_next = engagement.relax_engagement(
                    self._informal_engagement[ids],
                    engagement.informal_target(effect[ids] if running_schemes else 0.0, ep),
                    ep.relax_rate,
                )
            st.weeks_below, drops = engagement.dropout_step(
                st.engagement, st.weeks_below, st.active, st.member, ep
            )

        # 7. incentives and running costs (on the state at t; paid while the programme runs)
        for local, active, schemes in running_schemes:
            st.book(
                "incentives",
                incentives.incentive_payments(
                    schemes,
                    local,
                    sc.programme,
                    st.role,
                    st.member,
                    active,
                    adopts,
                    self.population.teachers,
                ),
            )
        if running:
            st.book_at("coordination", self._coordinated, self._coordination_week)
            st.book_at("platform", self._platform_users, costs.platform_week_price(sc.costs))

        # write the state at t + 1
        if change is not None:
            st.capacity = np.clip(st.capacity + change, 0.0, 1.0)
        if baseline_change is not None:
            st.baseline = np.clip(st.baseline + baseline_change, 0.0, 1.0)
        st.adopted = st.adopted | adopts
        if abandons.any():
            st.adopted &= ~abandons
        st.engagement = new_engagement
        if informal_next is not None:  # everyone else's informal engagement is its engagement
            np.copyto(self._informal_engagement, new_engagement)
            self._informal_engagement[self._informal_ids] = informal_next
        ties_changed = drops is not None and bool(drops.any())
        if ties_changed:
            self._dropouts += int(np.count_nonzero(drops))
            st.active = st.active & ~drops

        # 6. opening up (after the state is written: joiners meet from next week)
        if running and self._open_up(load, self.streams["opening"]):
            ties_changed = True
        if ties_changed:
            self._refresh_ties()
        self.week += 1
        self._record()
        self.running = self.week < sc.time.steps
        if self._collector.agent_reporters:
            self._collector.collect(self)

    def _cluster_draws(self) -> CountryDraws:
        """How every cluster draws one number, country by country (the programme's end)."""
        return CountryDraws.of(self._cluster_country, self._n_countries)

    def _open_up(self, load: np.ndarray, rng: np.random.Generator) -> bool:
        """Rule 6: outside schools join capable adopters. Returns whether ties were added."""
        sc, st = self.spec, self.state
        outside = ~st.member
        if self._school_running is not None:  # a staged roll-out: where a window runs
            outside &= self._school_running
        week = self.week  # under a staged roll-out: each school's week of its wave's calendar
        if self._staged:
            week = (
                week
                - np.asarray([sc.programme.wave_offset(k) for k in range(sc.programme.n_waves)])[
                    self._school_wave
                ]
            )
        joiners = opening.draw_joiners(outside, sc.opening, week, rng)
        if joiners.size == 0:
            return False
        eligible = opening.eligible_mentors(st.adopted, st.capacity, st.active, load, sc.opening)
        if self._school_running is not None:
            eligible &= self._school_running
        eligible[joiners] = False  # a school asking to join cannot mentor itself
        mentors = np.flatnonzero(eligible)
        free = (sc.opening.mentor_limit - load[mentors]).astype(np.int64)
        pop = self.population
        new = opening.match_joiners(joiners, mentors, free, pop.x, pop.y)
        if new.mentee.size == 0:
            return False
        k = new.mentee.size
        strength = (
            sc.contacts.strength_online
            if self._opening_mode == MODE_ONLINE
            else sc.contacts.strength_in_person
        )
        # a school that starts mentoring opens a cluster of its own, meeting in the new mode
        fresh = np.unique(new.mentor[st.role[new.mentor] != ROLE_MENTOR])
        first_new = self._n_clusters
        st.cluster[fresh] = first_new + np.arange(fresh.size)
        self._n_clusters += fresh.size
        self._cluster_mode = np.concatenate(
            [self._cluster_mode, np.full(fresh.size, self._opening_mode, np.int8)]
        )
        self._sustained = np.concatenate([self._sustained, np.zeros(fresh.size, dtype=bool)])
        self._cluster_mentor = np.concatenate([self._cluster_mentor, fresh.astype(np.int64)])
        self._cluster_country = np.concatenate(
            [self._cluster_country, self.population.country[fresh].astype(np.int64)]
        )
        if self._staged:  # a new cluster follows its mentor's window
            self._cluster_wave = np.concatenate([self._cluster_wave, self._school_wave[fresh]])
        if self._track_informal and self._informal_engagement is None:  # the first members
            self._informal_engagement = st.engagement.copy()
        st.role[new.mentor] = ROLE_MENTOR  # a capable adopter becomes a mentor
        st.role[new.mentee] = ROLE_MENTEE
        st.cluster[new.mentee] = st.cluster[new.mentor]
        st.member[new.mentor] = True
        st.member[new.mentee] = True
        self._informal_ids = np.flatnonzero(st.member)
        self.ties = self.ties.added(
            TieTable.build(
                new.mentor,
                new.mentee,
                np.full(k, KIND_MENTORING, np.int8),
                np.full(k, self._opening_mode, np.int8),
                np.full(k, strength),
                pop.x,
                pop.y,
                st.role,
                st.cluster,
                self._programme,
            )
        )
        eng = sc.engagement
        if eng.enabled:
            st.engagement[new.mentee] = eng.initial_voluntary
        return True

    # ---- outcomes ---------------------------------------------------------------------
    def _record(self) -> None:
        st = self.state
        self._records.append(
            self._metrics.row(
                adopted=st.adopted,
                capacity=st.capacity,
                member=st.member,
                active=st.active,
                dropouts=self._dropouts,
                meetings=self._meetings,
                cost_by_category=st.cost_totals,
                staff_hours=float(st.staff_hours_total),
                courses_enrolled=self._courses_enrolled,
                courses_completed=self._courses_completed,
                gap_closed=(st.capacity[self._gap_mentee] - self._gap_start) / self._gap,
            )
        )
        self._groups.record(self.week, st)

    def group_outcomes(self, leading: Mapping[str, Any] | None = None) -> pd.DataFrame:
        """The run's outcomes so far by country, region and disadvantage band, one row per
        group (``mensi_sim.groups.group_outcomes``); first the constant columns
        ``leading``, if given."""
        return group_outcomes(
            self._groups,
            Snapshot.of(self.state),
            self._disadvantaged,
            self.programme_years(self.week),
            leading,
        )

    def programme_years(self, weeks: int) -> float | np.ndarray:
        """Years of the programme each participant had within the first ``weeks`` weeks:
        one number for every school (``programme.years_run``), or per school under a staged
        roll-out (the years of the window it follows)."""
        if not self._staged:
            return programme.years_run(self.spec.programme, weeks)
        return programme.wave_years(self.spec.programme, weeks)[self._school_wave]

    def participant_years(self, weeks: int) -> float:
        """Years of the programme per participant at its end, on average (the divisor of
        the per-participant-year costs; ``years_run`` without a staged roll-out)."""
        years = self.programme_years(weeks)
        if not self._staged:
            return years
        end = self._groups.end_snapshot(Snapshot.of(self.state))
        members = end.member
        return float(years[members].mean()) if members.any() else 0.0

    def schools(self) -> pd.DataFrame:
        """One row per school: its id (a roster's ids), country, region, attributes and
        current role, cluster, capacity and adoption."""
        pop, st = self.population, self.state
        return pd.DataFrame(
            {
                "id": pop.ids,
                "country": np.asarray(pop.country_codes, dtype=object)[pop.country],
                "region": np.asarray(
                    [pop.region_label(r) for r in range(pop.n_regions)], dtype=object
                )[pop.region],
                "x": pop.x,
                "y": pop.y,
                "teachers": pop.teachers,
                "disadvantaged": pop.disadvantaged,
                "motivation": pop.motivation,
                "initial_capacity": pop.capacity,
                "role": np.asarray(ROLE_NAMES, dtype=object)[st.role],
                "cluster": st.cluster,
                "capacity": st.capacity,
                "adopted": st.adopted,
            }
        )

    @property
    def datacollector(self) -> StepCollector:
        """Mesa's DataCollector of this run: the step metrics of every recorded week."""
        return self._collector.sync(self._records)

    def timeseries(self, leading: Mapping[str, Any] | None = None) -> pd.DataFrame:
        """One row per recorded week (0 = initial state), one column per metric; first the
        constant columns ``leading`` (a run's scenario and replicate), if given."""
        values = np.vstack(self._records)
        steps = np.arange(len(self._records))
        # row s is the state after s weeks; week_of_year and in_term describe week s - 1
        week_of_year = np.maximum(steps - 1, 0) % WEEKS_PER_YEAR
        prog = self.spec.programme
        columns = {
            **(leading or {}),
            "step": steps,
            "week_of_year": week_of_year,
            "in_term": (steps > 0) & (week_of_year < self.spec.time.term_weeks),
            "programme_running": (
                programme.running_rows(prog, steps)
                if self._staged
                else (steps > prog.start_week) & (steps <= prog.end_week)
            ),
        }
        columns.update(zip(STEP_METRICS, values.T, strict=True))
        return pd.DataFrame(columns)  # one construction: DataFrame.insert is slow
