"""The floor: MentoringModel's step as one plain numpy function, for the benchmark's ratio.

How close is the model to what numpy can do? ``FloorKernel`` takes a freshly built
``MentoringModel`` (its schools, ties, initial state and random streams at week 0) and
runs the same rules with the same random draws, written the leanest way we know: flat
arrays, no objects per rule, every per-tie constant of a meeting computed once when the
ties change, costs booked over the schools that paid (``np.add.at``) with a running
ledger of totals, no Mesa. It produces the same per-step metrics row as the model; the
benchmark (``benchmarks/measure.py``, ``floor`` case) times both on the same world and
reports the ratio, and tests/test_floor.py checks that both give identical results at
fixed seeds.

What it implements: the programme's phases (the sustained-cluster draw at the end),
cluster meetings and ties meeting on their own (contacts and informal streams), meeting
costs (staff hours at the country hour rate, travel while funded), learning with drift,
courses, the ``contact`` adoption rule with abandonment, engagement with dropouts (ties
refreshed when a school drops out), coordination and platform costs, and the metrics of
``mensi_sim.metrics.STEP_METRICS``. What it refuses (``ValueError``): incentive schemes,
opening up, and the ``bass`` and ``threshold`` adoption rules, which the size sweep of
the benchmark does not use.

The arithmetic of every rule that feeds back into the dynamics (capacity, engagement,
adoption) is the model's, expression for expression, so that the two agree bit for bit;
the cost totals are sums of the same amounts, kept the same way in both (a ledger).
"""

from __future__ import annotations

import numpy as np

from mensi_sim.codes import (
    CASH_CATEGORIES,
    COST_CATEGORIES,
    KIND_COMMUNITY,
    KIND_MENTORING,
    KIND_PEER,
    KIND_PROXIMITY,
    MODE_IN_PERSON,
    MODE_ONLINE,
    ROLE_MENTEE,
    ROLE_MENTOR,
)
from mensi_sim.dynamics.contacts import grouped_by_event
from mensi_sim.dynamics.costs import mentor_rate
from mensi_sim.metrics import sort_into
from mensi_sim.scenario.schema import WEEKS_PER_YEAR
from mensi_sim.seeds import CountryDraws

_TRAVEL, _STAFF, _PLATFORM, _COORDINATION, _TRAINING = (
    COST_CATEGORIES.index(c)
    for c in ("travel", "staff_time", "platform", "coordination", "training")
)
_CASH = np.array([COST_CATEGORIES.index(c) for c in CASH_CATEGORIES])


def _copy_generator(rng: np.random.Generator) -> np.random.Generator:
    """An independent generator in the same state (the model's stream at week 0)."""
    bit = type(rng.bit_generator)()
    bit.state = rng.bit_generator.state
    return np.random.Generator(bit)


class FloorKernel:
    """The model's rules on plain arrays, from a model at week 0 (see the module docstring).

    Args:
        model: A ``MentoringModel`` that has not stepped yet; it is not changed (its
            arrays and random streams are copied).
    """

    def __init__(self, model) -> None:
        sc = model.spec
        if model.week != 0:
            raise ValueError("the floor starts from a model at week 0")
        if sc.incentives:
            raise ValueError("the floor does not implement incentive schemes")
        if sc.opening.enabled:
            raise ValueError("the floor does not implement opening up")
        if sc.adoption.rule != "contact":
            raise ValueError(f"the floor implements the contact rule, not {sc.adoption.rule!r}")
        st, ties = model.state, model.ties
        self.n = n = st.n
        self.week = 0
        # parameters, as plain floats
        self.term_weeks = sc.time.term_weeks
        prog = sc.programme
        self.start_week, self.end_week = prog.start_week, prog.end_week
        self.sustain_prob, self.sustained_share = prog.sustain_prob, prog.sustained_rate_share
        self.contacts, self.learning, self.adoption = sc.contacts, sc.learning, sc.adoption
        self.engagement_on, self.eng = sc.engagement.enabled, sc.engagement
        self.courses = list(sc.training.courses)
        self.travel_per_km = sc.costs.travel_per_km
        self.platform_week = sc.costs.platform_per_school_year / WEEKS_PER_YEAR
        # by school, in person or online by its cluster's mode at week 0 (a mentor made by
        # opening up keeps the price of its first cluster: equal prices unless designed)
        self.coordination_rate = (
            mentor_rate(model._coordination_rate, st.cluster, model._cluster_mode) / WEEKS_PER_YEAR
        )
        # random streams, copied at week 0
        self.rng = {k: _copy_generator(g) for k, g in model.streams.items()}
        # the contacts and programme streams: one generator per country
        self.country_rng = {
            k: [_copy_generator(g) for g in gens] for k, gens in model.country_streams.items()
        }
        self.n_countries = model._n_countries
        self.school_country = model.population.country
        # schools: state and constants
        self.capacity = st.capacity.copy()
        self.baseline = st.baseline.copy()
        self.adopted = st.adopted.copy()
        self.engagement = st.engagement.copy()
        # the members' informal engagement (their proximity ties), None when it is theirs
        informal = model._informal_engagement
        self.informal = None if informal is None else informal.copy()
        self.informal_ids = model._informal_ids
        self.active = st.active.copy()
        self.member = st.member.copy()
        self.role = st.role.copy()
        self.weeks_below = st.weeks_below.copy()
        self.absorb, self.reach = model._absorb, model._reach
        self.delegates, self.hour_rate = model._delegates, model._hour_rate
        disadvantaged = model._disadvantaged
        self.disadvantaged_ids = np.flatnonzero(disadvantaged)
        self.other_ids = np.flatnonzero(~disadvantaged)
        # work arrays of the metrics, kept from week to week
        self._sorted, self._work = np.empty(n), np.empty(n)
        self._keys = np.empty(n, dtype=np.uint16)
        self._ranks = np.arange(1, n + 1, dtype=float)
        self._both = np.empty(n, dtype=bool)
        self._dis = np.empty(self.disadvantaged_ids.size)
        eng = sc.engagement
        self.base_target = np.where(model._assigned, eng.target_compulsory, eng.target_voluntary)
        self.enrolled = [np.zeros(n, dtype=bool) for _ in self.courses]
        self.courses_enrolled = self.courses_completed = 0
        # the week-0 mentees' gaps to their mentors (the mentee gap closure metric)
        self.gap_mentee, self.gap = model._gap_mentee, model._gap
        self.gap_start = model._gap_start
        # costs: per school and category (EUR), staff hours per school, and the ledger
        self.cost = np.zeros((len(COST_CATEGORIES), n))
        self.staff_hours = np.zeros(n)
        self.ledger = np.zeros(len(COST_CATEGORIES))
        self.hours_total = 0.0
        # ties and clusters
        self.src, self.dst, self.kind = ties.src, ties.dst, ties.kind
        self.strength, self.distance, self.event = ties.strength, ties.distance, ties.event
        self.programme_tie, self.mode = ties.programme, ties.mode
        self.formal = self.kind != KIND_PROXIMITY
        self.n_clusters = model._n_clusters
        self.cluster_mode = model._cluster_mode
        self.cluster_mentor = model._cluster_mentor
        self.cluster_country = model._cluster_country
        self.sustained = np.zeros(self.n_clusters, dtype=bool)
        self.phase = self._phase(0)
        self.dropouts = 0
        self.meetings = 0
        self._refresh()
        self.records = [self._metrics()]

    # ---- what changes only with the ties, activity or the phase ------------------------
    def _phase(self, week: int) -> str:
        if week < self.start_week:
            return "before"
        return "running" if week < self.end_week else "after"

    def _refresh(self) -> None:
        n, c = self.n, self.contacts
        src, dst, kind, event = self.src, self.dst, self.kind, self.event
        running = self.phase == "running"
        # which ties the programme lets meet, and which are open
        if running:
            allowed = np.ones(src.size, dtype=bool)
        elif self.phase == "before":
            allowed = ~self.programme_tie
        else:
            sustained = (event >= 0) & self.sustained[np.maximum(event, 0)]
            allowed = ~self.programme_tie | sustained
        both = self.active[src] & self.active[dst]
        is_open = ~self.formal | (both & (~self.programme_tie | allowed))
        mentoring = kind == KIND_MENTORING
        self.load = np.bincount(src[mentoring & is_open], minlength=n).astype(float)
        # cluster meetings
        rate = np.zeros(self.n_clusters)
        rate[self.cluster_mode == MODE_IN_PERSON] = c.rate_in_person
        rate[self.cluster_mode == MODE_ONLINE] = c.rate_online
        if running:
            scale = np.ones(self.n_clusters)
        elif self.phase == "before":
            scale = np.zeros(self.n_clusters)
        else:
            scale = np.where(self.sustained, self.sustained_share, 0.0)
        drawn = np.flatnonzero(rate > 0)
        mentor = self.cluster_mentor[drawn]
        self.cl_ids = drawn
        self.cl_draws = CountryDraws.of(self.cluster_country[drawn], self.n_countries)
        self.cl_p = rate[drawn] * scale[drawn]
        self.cl_ok = (mentor >= 0) & self.active[np.maximum(mentor, 0)]
        in_event = np.flatnonzero((event >= 0) & is_open)
        self.ev_ties = grouped_by_event(in_event, event[in_event], event.size)  # the model's
        count = np.bincount(event[self.ev_ties], minlength=self.n_clusters)[: self.n_clusters]
        self.ev_count = count
        self.ev_start = np.concatenate([[0], np.cumsum(count)[:-1]]).astype(np.int64)
        # ties meeting on their own
        pair = np.zeros(src.size)
        in_person = self.mode == MODE_IN_PERSON
        pair[mentoring & in_person] = c.rate_in_person
        pair[mentoring & ~in_person] = c.rate_online
        pair[kind == KIND_PEER] = c.rate_peer
        pair[kind == KIND_COMMUNITY] = c.rate_community
        pair[kind == KIND_PROXIMITY] = c.rate_proximity
        pair[event >= 0] = 0.0
        alone = (event < 0) & (pair > 0)
        self.pair_ids = np.flatnonzero(alone & self.formal)
        self.pair_p = pair[self.pair_ids]
        self.pair_open = is_open[self.pair_ids]
        self.pair_draws = CountryDraws.of(self.school_country[src[self.pair_ids]], self.n_countries)
        self.inf_ids = np.flatnonzero(alone & ~self.formal)
        self.inf_p = pair[self.inf_ids]
        # what a meeting of each tie costs whom (fixed until the next refresh)
        funded = ~self.programme_tie | running
        length = np.where(in_person, c.hours_in_person, c.hours_online)
        trip_hours = np.where(in_person, 2.0 * self.distance / c.travel_speed_kmh, 0.0)
        trip_cost = np.where(in_person & funded, 2.0 * self.distance * self.travel_per_km, 0.0)
        d = self.delegates
        cluster_tie = (event >= 0) & mentoring
        alone = (event < 0) & self.formal
        community = alone & (kind == KIND_COMMUNITY)
        other = alone & ~community
        self.hours_src = np.where(community, c.hours_community, np.where(other, d[src] * length, 0))
        self.hours_dst = np.where(
            community,
            c.hours_community,
            np.where(cluster_tie | other, d[dst] * (length + trip_hours), 0.0),
        )
        self.travel_dst = np.where(cluster_tie | other, trip_cost, 0.0)
        self.src_pays, self.dst_pays = alone, cluster_tie | alone
        # the host of a cluster meeting: the mentor, once, by its first open mentoring tie
        host_tie = np.flatnonzero(cluster_tie & is_open)
        ids, first = np.unique(event[host_tie], return_index=True)
        host_tie = host_tie[first]
        self.host = np.full(self.n_clusters, -1, np.int64)
        self.host[ids] = src[host_tie]
        self.host_hours = np.zeros(self.n_clusters)
        self.host_hours[ids] = d[src[host_tie]] * length[host_tie] + c.mentor_prep_hours
        # running costs and the engagement target
        online = is_open & (self.mode == MODE_ONLINE) & self.programme_tie
        platform = np.zeros(n, dtype=bool)
        platform[src[online]] = True
        platform[dst[online]] = True
        self.platform_ids = np.flatnonzero(platform) if running else np.zeros(0, np.int64)
        self.coordinated = np.flatnonzero((self.role == ROLE_MENTOR) & self.active)
        self.coordination_week = self.coordination_rate[self.coordinated]
        eng = self.eng
        self.target = np.clip(self.base_target - eng.fatigue_per_mentee * self.load, 0.0, 1.0)

    # ---- booking -----------------------------------------------------------------------
    def _book(self, category: int, schools: np.ndarray, amounts: np.ndarray | float) -> None:
        if schools.size == 0:
            return
        np.add.at(self.cost[category], schools, amounts)
        scalar = np.ndim(amounts) == 0
        self.ledger[category] += amounts * schools.size if scalar else np.add.reduce(amounts)

    def _book_hours(self, schools: np.ndarray, hours: np.ndarray | float) -> None:
        if schools.size == 0:
            return
        np.add.at(self.staff_hours, schools, hours)
        scalar = np.ndim(hours) == 0
        self.hours_total += hours * schools.size if scalar else np.add.reduce(hours)
        self._book(_STAFF, schools, hours * self.hour_rate[schools])

    # ---- one week ----------------------------------------------------------------------
    def step(self) -> None:
        n, week = self.n, self.week
        now = self._phase(week)
        if now != self.phase:
            if now == "after":
                every = CountryDraws.of(self.cluster_country, self.n_countries)
                u = every.uniforms(self.country_rng["programme"])
                self.sustained = u < self.sustain_prob
            self.phase = now
            self._refresh()
        running = now == "running"
        load = self.load
        capacity, engagement, adopted = self.capacity, self.engagement, self.adopted

        # 1. contacts and their costs
        if week % WEEKS_PER_YEAR < self.term_weeks:
            rng = self.country_rng["contacts"]
            u = self.cl_draws.uniforms(rng)
            met_cl = self.cl_ids[(u < self.cl_p) & self.cl_ok]
            count = self.ev_count[met_cl]
            met_cl, count = met_cl[count > 0], count[count > 0]
            first = self.ev_start[met_cl]
            ends = np.cumsum(count)
            offsets = np.repeat(first - (ends - count), count)
            in_events = self.ev_ties[offsets + np.arange(int(ends[-1]) if ends.size else 0)]
            u = self.pair_draws.uniforms(rng)
            pairs = self.pair_ids[(u < self.pair_p) & self.pair_open]
            u = self.rng["informal"].random(self.inf_ids.size)
            informal = self.inf_ids[u < self.inf_p]
            met = np.sort(np.concatenate([in_events, pairs, informal]))
            by_src, by_dst = met[self.src_pays[met]], met[self.dst_pays[met]]
            host = self.host[met_cl]
            hosted = met_cl[host >= 0]
            travellers = self.dst[by_dst]
            schools = np.concatenate([self.src[by_src], travellers, self.host[hosted]])
            hours = np.concatenate(
                [self.hours_src[by_src], self.hours_dst[by_dst], self.host_hours[hosted]]
            )
            self._book_hours(schools, hours)
            self._book(_TRAVEL, travellers, self.travel_dst[by_dst])
            self.meetings = met_cl.size + int(np.count_nonzero(self.event[by_src] < 0))
        else:
            met = np.zeros(0, np.int64)
            self.meetings = 0

        # 2. learning (the model's formula, expression for expression)
        ln = self.learning
        u, v = self.src[met], self.dst[met]
        if ln.enabled:
            cu, cv = capacity[u], capacity[v]
            teacher = np.where(cu >= cv, u, v)
            learner = np.where(cu >= cv, v, u)
            gap = np.abs(cu - cv)
            kind = self.kind[met]
            peer = kind == KIND_PEER
            peers_met = np.bincount(u[peer], minlength=n) + np.bincount(v[peer], minlength=n)
            mentor_teaches = (kind == KIND_MENTORING) & (teacher == u)
            dilution = np.ones(met.size)
            dilution[mentor_teaches] = np.maximum(load[teacher[mentor_teaches]], 1.0) ** ln.gamma
            dilution[peer] = np.maximum(peers_met[learner[peer]], 1) ** ln.gamma
            if self.informal is None:
                e_teacher, e_learner = engagement[teacher], engagement[learner]
            else:  # proximity ties: the engagement a school would have outside the programme
                formal = self.formal[met]
                e_teacher = np.where(formal, engagement[teacher], self.informal[teacher])
                e_learner = np.where(formal, engagement[learner], self.informal[learner])
            gain = (
                ln.rate
                * self.strength[met]
                * e_teacher
                * e_learner
                * self.absorb[learner]
                * self.reach[learner]
                * gap
                / dilution
            )
            drift = ln.drift * (self.baseline - capacity)
            drift[u] = 0.0
            drift[v] = 0.0
            change = (
                np.bincount(learner, weights=gain, minlength=n)
                + np.bincount(
                    teacher, weights=ln.reciprocity * gain * (1.0 - capacity[teacher]), minlength=n
                )
                + drift
            )
        else:
            change = None

        # 3. courses
        completed = []
        for i, course in enumerate(self.courses):
            if week == course.start_week:
                if course.target == "mentors":
                    offered = self.role == ROLE_MENTOR
                elif course.target == "mentees":
                    offered = self.role == ROLE_MENTEE
                elif course.target == "participants":
                    offered = self.member.copy()
                elif course.target == "outside":
                    offered = ~self.member
                else:
                    offered = np.ones(n, dtype=bool)
                offered &= self.active
                draw = self.rng["training"].random(n)
                self.enrolled[i] = offered & (draw < course.enrol_prob)
                ids = np.flatnonzero(self.enrolled[i])
                self.courses_enrolled += int(ids.size)
                self._book(_TRAINING, ids, course.cost_per_participant)
                self._book_hours(ids, course.staff_hours)
            if week == course.start_week + course.duration_weeks - 1:
                draw = self.rng["training"].random(n)
                done = self.enrolled[i] & self.active & (draw < course.completion_prob)
                self.courses_completed += int(np.count_nonzero(done))
                completed.append((done, course))

        # 4. adoption: the contact rule
        ad = self.adoption
        rng = self.rng["adoption"]
        u_adopt, u_abandon = rng.random(n), rng.random(n)
        s = self.strength[met]
        exposure = np.bincount(u, weights=s * adopted[v], minlength=n) + np.bincount(
            v, weights=s * adopted[u], minlength=n
        )
        ready = 1.0 / (1.0 + np.exp(-ad.readiness_slope * (capacity - ad.readiness_midpoint)))
        prob = -np.expm1(-ready * (ad.p + ad.exposure * exposure))
        adopts = ~adopted & (u_adopt < prob)
        abandons = None
        if ad.abandonment > 0:
            abandons = adopted & (u_abandon < ad.abandonment * (1.0 - capacity))

        # 5. engagement
        drops = informal_next = None
        if self.engagement_on:
            eng = self.eng
            new_engagement = np.clip(
                engagement + eng.relax_rate * (self.target - engagement), 0.0, 1.0
            )
            below = engagement < eng.dropout_floor
            self.weeks_below = np.where(below, self.weeks_below + 1, 0)
            drops = self.active & self.member & (self.weeks_below >= eng.dropout_weeks)
            if self.informal is not None:  # a volunteer's target, no load, no incentive
                own = self.informal[self.informal_ids]
                target = np.clip(
                    eng.target_voluntary + 0.0 - eng.fatigue_per_mentee * 0.0, 0.0, 1.0
                )
                informal_next = np.clip(own + eng.relax_rate * (target - own), 0.0, 1.0)
        else:
            new_engagement = engagement

        # 7. running costs, while the programme runs
        if running:
            self._book(_COORDINATION, self.coordinated, self.coordination_week)
            self._book(_PLATFORM, self.platform_ids, self.platform_week)

        # the state at t + 1
        if change is not None:
            for done, course in completed:
                change += np.where(done, course.capacity_gain * (1.0 - capacity), 0.0)
            self.capacity = np.clip(capacity + change, 0.0, 1.0)
        elif completed:
            change = np.zeros(n)
            for done, course in completed:
                change += np.where(done, course.capacity_gain * (1.0 - capacity), 0.0)
            self.capacity = np.clip(capacity + change, 0.0, 1.0)
        if completed:
            gain = np.zeros(n)
            for done, course in completed:
                gain += np.where(done, course.capacity_gain * (1.0 - self.baseline), 0.0)
            self.baseline = np.clip(self.baseline + gain, 0.0, 1.0)
        self.adopted = adopted | adopts
        if abandons is not None:
            self.adopted &= ~abandons
        self.engagement = new_engagement
        if informal_next is not None:
            np.copyto(self.informal, new_engagement)
            self.informal[self.informal_ids] = informal_next
        self.week += 1
        if drops is not None and drops.any():
            self.dropouts += int(np.count_nonzero(drops))
            self.active = self.active & ~drops
            self._refresh()
        self.records.append(self._metrics())

    def run_for(self, steps: int) -> None:
        """``steps`` weeks."""
        for _ in range(steps):
            self.step()

    # ---- the metrics of a week ----------------------------------------------------------
    def _metrics(self) -> np.ndarray:
        n, adopted, capacity, member = self.n, self.adopted, self.capacity, self.member
        both = self._both
        k_member = np.count_nonzero(member)
        k_adopted = np.count_nonzero(adopted)
        k_adopted_member = np.count_nonzero(np.logical_and(adopted, member, out=both))
        k_active_member = np.count_nonzero(np.logical_and(member, self.active, out=both))
        total = np.add.reduce(capacity)
        dis, other = self.disadvantaged_ids, self.other_ids
        if dis.size and other.size:
            dis_total = np.add.reduce(np.take(capacity, dis, out=self._dis))
            gap = float((total - dis_total) / other.size - dis_total / dis.size)
        else:
            gap = 0.0
        # sorted capacities: the model's sort (np.sort where it is vectorised, else 16-bit
        # buckets, then timsort within them), the same function and cost
        x = self._sorted
        sort_into(capacity, x, self._work, self._keys)
        sorted_total = np.add.reduce(x)
        if n and sorted_total > 0:
            if n <= 10_000:
                weighted = np.dot(self._ranks, x)
            else:
                weighted = np.add.reduce(np.multiply(self._ranks, x, out=self._work))
            gini = float(2.0 * weighted / (n * sorted_total) - (n + 1) / n)
        else:
            gini = 0.0
        ledger = self.ledger
        closed = (capacity[self.gap_mentee] - self.gap_start) / self.gap
        return np.array(
            [
                k_adopted / n if n else 0.0,
                k_adopted_member / k_member if k_member else 0.0,
                (k_adopted - k_adopted_member) / (n - k_member) if n - k_member else 0.0,
                float(total / n),
                gap,
                gini,
                float(k_active_member),
                float(k_member),
                np.count_nonzero(member[dis]) / dis.size if dis.size else 0.0,
                float(self.dropouts),
                float(self.meetings),
                *ledger.tolist(),
                float(ledger[_CASH].sum()),
                float(ledger.sum()),
                float(self.hours_total),
                float(self.courses_enrolled),
                self.courses_completed / self.courses_enrolled if self.courses_enrolled else 0.0,
                float(np.add.reduce(closed) / closed.size) if closed.size else 0.0,
            ]
        )

    def timeseries(self) -> np.ndarray:
        """(weeks + 1, len(STEP_METRICS)): the metrics rows recorded so far."""
        return np.vstack(self.records)
