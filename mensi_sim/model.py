"""`MentoringModel`: the Mesa model that wires population, network and rules together."""

from __future__ import annotations

import mesa
import numpy as np
import pandas as pd

from mensi_sim.agents import School
from mensi_sim.codes import (
    COST_CATEGORIES,
    KIND_MENTORING,
    MODE_IN_PERSON,
    MODE_ONLINE,
    ROLE_MENTEE,
    ROLE_MENTOR,
    ROLE_NONE,
)
from mensi_sim.dynamics import (
    adoption,
    contacts,
    costs,
    engagement,
    incentives,
    learning,
    opening,
    training,
)
from mensi_sim.metrics import STEP_METRICS, step_metrics
from mensi_sim.population import Population, initial_capacity
from mensi_sim.scenario.schema import WEEKS_PER_YEAR, Scenario
from mensi_sim.seeds import SeedLike, run_streams
from mensi_sim.state import SchoolState
from mensi_sim.world import build_world


class MentoringModel(mesa.Model):
    """Schools learning from each other in a mentoring network, one step per week.

    Every school is a ``School`` agent in ``model.agents``; its attributes are views
    of the arrays in ``model.state`` (``SchoolState``). A step runs these rules in
    order, each a vectorised function over all schools and ties (``mensi_sim.dynamics``).
    The step is synchronous: every rule reads the state at week t; the new state is
    written together at the end.

    1. Contacts: each active tie meets with its kind's/mode's rate (term weeks only);
       meetings book travel and staff time.
    2. Learning: in a meeting the less capable side gains
       ``lambda * strength * e_i * e_j * absorb_j * (c_i - c_j)+ / load_i^gamma``;
       the teacher learns back (reciprocity); without contact capacity drifts to baseline.
    3. Training: courses enrol at their start and complete at their end, raising capacity.
    4. Adoption: Bass-type ``min(1, c^theta (p + q m))`` or threshold ``m >= phi``;
       adopters abandon with probability ``r (1 - c)``.
    5. Engagement: relaxes toward a target (participation, incentives, mentor fatigue);
       members below the floor for ``dropout_weeks`` drop out and their ties go quiet.
    6. Opening up: from ``opening.start_week`` outside schools join capable adopters.
    7. Incentives pay out; coordination and platform costs are booked by category.

    Rules 1-5 and 7 read the state at t; the state at t + 1 is then written, and rule 6
    runs last on it, so schools that join this week meet from next week on.

    Args:
        scenario: A validated Scenario.
        rng: An int seed, a ``numpy.random.SeedSequence`` or None (fresh entropy). It is
            split into separate streams for the population, the networks and the dynamics
            (``mensi_sim.seeds.run_streams``); ``model.rng`` is the dynamics stream.
    """

    def __init__(self, scenario: Scenario, rng: SeedLike = None) -> None:
        streams = run_streams(rng)
        super().__init__(rng=streams.dynamics)
        self.spec = scenario
        self.week = 0
        population, network = build_world(scenario, streams.population, streams.network)
        self.population: Population = population
        n = population.n
        role = network.role.copy()
        member = role != ROLE_NONE
        self._set_ties(
            network.src,
            network.dst,
            network.kind,
            network.mode,
            network.strength,
            self._distances(network.src, network.dst),
        )
        member |= self._has_programme_tie(n)
        capacity = initial_capacity(population, role)
        participation = scenario.participation
        eng = scenario.engagement
        if eng.enabled:
            mean = eng.initial_voluntary if participation == "voluntary" else eng.initial_compulsory
            e0 = engagement.initial_engagement(n, mean, eng.spread_sd, population.motivation)
        else:
            e0 = np.ones(n)
        self.state = SchoolState(
            capacity=capacity.astype(float),
            baseline=capacity.astype(float).copy(),
            adopted=adoption.initial_adopters(
                n, scenario.adoption, role == ROLE_MENTOR, population.capacity_latent, self.rng
            ),
            engagement=e0,
            active=np.ones(n, dtype=bool),
            member=member,
            role=role,
            cluster=network.cluster.copy(),
            weeks_below=np.zeros(n, dtype=np.int32),
            threshold=adoption.draw_thresholds(n, scenario.adoption, self.rng),
            cost=np.zeros((n, len(COST_CATEGORIES))),
        )
        self._absorb = learning.absorption(
            population.disadvantaged, scenario.learning.disadvantaged_absorption
        )
        self._disadvantaged = population.disadvantaged >= scenario.population.disadvantaged_cutoff
        self._enrolled = [np.zeros(n, dtype=bool) for _ in scenario.training.courses]
        self._coordination_rate = costs.coordination_rate(
            scenario.network.structure, scenario.costs
        )
        self._opening_mode = self._new_tie_mode()
        self._dropouts = 0
        self._meetings = 0
        self._refresh_influence()
        self._records: list[np.ndarray] = []
        self._record()
        School.create_agents(self, n, index=list(range(n)))

    # ---- ties -------------------------------------------------------------------------
    def _distances(self, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
        pop = self.population
        return np.hypot(pop.x[src] - pop.x[dst], pop.y[src] - pop.y[dst])

    def _set_ties(self, src, dst, kind, mode, strength, distance) -> None:
        """Install tie arrays and everything derived from them."""
        self.tie_src, self.tie_dst = src.astype(np.int64), dst.astype(np.int64)
        self.tie_kind, self.tie_mode = kind.astype(np.int8), mode.astype(np.int8)
        self.tie_strength, self.tie_distance = strength.astype(float), distance.astype(float)
        self._tie_rate = contacts.tie_meeting_rate(self.tie_kind, self.tie_mode, self.spec.contacts)
        self._tie_formal = contacts.tie_is_formal(self.tie_kind)

    def _add_ties(self, src, dst, kind, mode, strength, distance) -> None:
        self._set_ties(
            np.concatenate([self.tie_src, src]),
            np.concatenate([self.tie_dst, dst]),
            np.concatenate([self.tie_kind, kind]),
            np.concatenate([self.tie_mode, mode]),
            np.concatenate([self.tie_strength, strength]),
            np.concatenate([self.tie_distance, distance]),
        )

    def _has_programme_tie(self, n: int) -> np.ndarray:
        has = np.zeros(n, dtype=bool)
        has[self.tie_src[self._tie_formal]] = True
        has[self.tie_dst[self._tie_formal]] = True
        return has

    def _refresh_influence(self) -> None:
        """Recompute what depends on ties and activity (only when either changes): active
        ties, mentor loads, platform users, and the influence matrix with its row sums."""
        n = self.state.n
        self._active_tie = contacts.tie_active(
            self.tie_src, self.tie_dst, self._tie_formal, self.state.active
        )
        self._load = learning.mentor_load(self.tie_src, self.tie_kind, self._active_tie, n)
        self._uses_platform = costs.online_schools(
            n, self.tie_src, self.tie_dst, self.tie_kind, self.tie_mode, self._active_tie
        )
        self._influence = adoption.influence_matrix(
            n, self.tie_src, self.tie_dst, self.tie_strength * self._active_tie
        )
        self._weighted_degree = np.asarray(self._influence.sum(axis=1)).ravel()

    def _new_tie_mode(self) -> int:
        mode = self.spec.opening.mode
        if mode == "auto":
            return MODE_ONLINE if self.spec.network.structure == "virtual" else MODE_IN_PERSON
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

    # ---- one step ---------------------------------------------------------------------
    def step(self) -> None:
        """Advance one week; the rule order is the class docstring's."""
        sc, st, rng, week = self.spec, self.state, self.rng, self.week
        n = st.n
        load = self._load

        # 1. contacts
        meet = contacts.draw_meetings(self._tie_rate, self._active_tie, self.in_term, rng)
        met = np.flatnonzero(meet)
        travel, staff = contacts.meeting_costs(
            np.ones(met.size, dtype=bool),
            self.tie_mode[met],
            self._tie_formal[met],
            self.tie_distance[met],
            sc.contacts,
            sc.costs,
        )
        st.book("travel", _split_between(self.tie_src[met], self.tie_dst[met], travel, n))
        st.book("staff_time", _split_between(self.tie_src[met], self.tie_dst[met], staff, n))
        self._meetings = int(met.size)

        # 2. learning
        change = np.zeros(n)
        if sc.learning.enabled:
            lp = sc.learning
            change += learning.learning_change(
                st.capacity,
                st.baseline,
                st.engagement,
                self._absorb,
                load,
                self.tie_src,
                self.tie_dst,
                self.tie_kind,
                self.tie_strength,
                meet,
                rate=lp.rate,
                gamma=lp.gamma,
                reciprocity=lp.reciprocity,
                drift=lp.drift,
            )

        # 3. training
        baseline_change = np.zeros(n)
        for i, course in enumerate(sc.training.courses):
            if week == course.start_week:
                offered = incentives.target_group(course.target, st.role, st.member) & st.active
                self._enrolled[i] = training.course_enrolment(offered, course, rng)
                enrolled = self._enrolled[i]
                st.book(
                    "training",
                    np.where(
                        enrolled,
                        course.cost_per_participant + course.staff_hours * sc.costs.staff_hour_rate,
                        0.0,
                    ),
                )
            if week == course.start_week + course.duration_weeks - 1:
                done = training.course_completion(self._enrolled[i] & st.active, course, rng)
                change += training.completion_gain(st.capacity, done, course)
                baseline_change += training.completion_gain(st.baseline, done, course)

        # 4. adoption (reads capacity and adoption at t)
        share = adoption.adopting_neighbour_share(
            self._influence, st.adopted, self._weighted_degree
        )
        count = (
            adoption.adopting_neighbour_count(self._influence, st.adopted)
            if sc.adoption.rule == "threshold"
            else None
        )
        adopts, abandons = adoption.adoption_step(
            st.adopted, st.capacity, share, count, st.threshold, sc.adoption, rng
        )

        # 5. engagement
        new_engagement, drops = st.engagement, np.zeros(n, dtype=bool)
        if sc.engagement.enabled:
            ep = sc.engagement
            base = ep.target_voluntary if sc.participation == "voluntary" else ep.target_compulsory
            effect = incentives.incentive_effect(sc.incentives, week, st.role, st.member, st.active)
            target = engagement.engagement_target(base, effect, load, ep.fatigue_per_mentee)
            new_engagement = engagement.relax_engagement(st.engagement, target, ep.relax_rate)
            st.weeks_below, drops = engagement.dropout_step(
                st.engagement, st.weeks_below, st.active, st.member, ep
            )

        # 7. incentives and running costs (on the state at t)
        st.book(
            "incentives",
            incentives.incentive_payments(
                sc.incentives, week, st.role, st.member, st.active, adopts
            ),
        )
        st.book(
            "coordination", costs.coordination_cost(st.role, st.active, self._coordination_rate)
        )
        st.book("platform", costs.platform_cost(self._uses_platform, sc.costs))

        # write the state at t + 1
        st.capacity = np.clip(st.capacity + change, 0.0, 1.0)
        st.baseline = np.clip(st.baseline + baseline_change, 0.0, 1.0)
        st.adopted = (st.adopted | adopts) & ~abandons
        st.engagement = new_engagement
        self._dropouts += int(drops.sum())
        activity_changed = bool(drops.any())
        st.active = st.active & ~drops

        # 6. opening up (after the state is written: joiners meet from next week)
        if self._open_up(load, rng):
            activity_changed = True
        if activity_changed:
            self._refresh_influence()
        self.week += 1
        self._record()

    def _open_up(self, load: np.ndarray, rng: np.random.Generator) -> bool:
        """Rule 6: outside schools join capable adopters. Returns whether ties were added."""
        sc, st = self.spec, self.state
        joiners = opening.draw_joiners(~st.member, sc.opening, self.week, rng)
        if joiners.size == 0:
            return False
        eligible = opening.eligible_mentors(st.adopted, st.capacity, st.active, load, sc.opening)
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
        self._add_ties(
            new.mentor,
            new.mentee,
            np.full(k, KIND_MENTORING, np.int8),
            np.full(k, self._opening_mode, np.int8),
            np.full(k, strength),
            new.distance_km,
        )
        # a school that starts mentoring opens a cluster of its own
        fresh = np.unique(new.mentor[st.role[new.mentor] != ROLE_MENTOR])
        next_cluster = int(st.cluster.max()) + 1
        st.cluster[fresh] = next_cluster + np.arange(fresh.size)
        st.role[new.mentor] = ROLE_MENTOR  # a capable adopter becomes a mentor
        st.role[new.mentee] = ROLE_MENTEE
        st.cluster[new.mentee] = st.cluster[new.mentor]
        st.member[new.mentor] = True
        st.member[new.mentee] = True
        eng = sc.engagement
        if eng.enabled:
            st.engagement[new.mentee] = eng.initial_voluntary
        return True

    # ---- outcomes ---------------------------------------------------------------------
    def _record(self) -> None:
        st = self.state
        self._records.append(
            step_metrics(
                adopted=st.adopted,
                capacity=st.capacity,
                member=st.member,
                active=st.active,
                disadvantaged=self._disadvantaged,
                dropouts=self._dropouts,
                meetings=self._meetings,
                cost_by_category=st.cost_by_category(),
            )
        )

    def timeseries(self) -> pd.DataFrame:
        """One row per recorded week (0 = initial state), one column per metric."""
        values = np.vstack(self._records)
        steps = np.arange(len(self._records))
        # row s is the state after s weeks; week_of_year and in_term describe week s - 1
        week_of_year = np.maximum(steps - 1, 0) % WEEKS_PER_YEAR
        columns = {
            "step": steps,
            "week_of_year": week_of_year,
            "in_term": (steps > 0) & (week_of_year < self.spec.time.term_weeks),
        }
        columns.update(zip(STEP_METRICS, values.T, strict=True))
        return pd.DataFrame(columns)  # one construction: DataFrame.insert is slow


def _split_between(src: np.ndarray, dst: np.ndarray, amount: np.ndarray, n: int) -> np.ndarray:
    """Book half of each tie's amount to each of its two schools."""
    half = amount / 2.0
    return np.bincount(src, weights=half, minlength=n) + np.bincount(dst, weights=half, minlength=n)
