"""School rosters as the population (issue 16).

- Round trip: the schools of the results are the roster's schools, with its ids and
  attributes; the outcomes by group carry its country and region names.
- Same clusters: every policy structure builds, on a roster that gives every attribute of
  a generated population, the same roles, clusters and ties as on the generated schools,
  and the run gives the same outcomes bit for bit (the roster is read, the population
  stream drawn as without it).
- What a roster lacks is drawn as for generated schools, from the same draws, and is
  reported (``Population.drawn``).
- SELFIE scores map to capacity as docs/ODD.md states, ``c = (s - 1) / 4``; several areas
  combine as their unweighted mean; latitude and longitude become km within 1 % of the
  great-circle distance.
- Role hints: volunteers are chosen first, a school that said no never mentors.
- Bad rosters: one-line errors naming file, row and column, from load_scenario and the
  command line (exit code 2, no traceback).
- What it read: `run` and `sweep` print one line of what the roster gave and what was drawn.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from mensi_sim import MentoringModel, load_scenario, simulate
from mensi_sim.cli import app
from mensi_sim.codes import ROLE_MENTOR
from mensi_sim.errors import RosterError
from mensi_sim.population import generate_population
from mensi_sim.scenario.roster import EARTH_RADIUS_KM, laea_km, read_roster
from mensi_sim.seeds import run_streams

REPO = Path(__file__).resolve().parents[1]
PILOT = load_scenario(REPO / "scenarios" / "mensi_pilot.toml").with_updates({"time.steps": 60})
POLICY = ("top_down", "bottom_up", "virtual", "hybrid")


def roster_of(population, ids=None) -> pd.DataFrame:
    """A roster giving every attribute of a population (ids ``S000``, ... by default)."""
    return pd.DataFrame(
        {
            "id": ids if ids is not None else [f"S{i:03d}" for i in range(population.n)],
            "country": np.asarray(population.country_codes)[population.country],
            "region": [population.region_label(r) for r in population.region],
            "x": population.x,
            "y": population.y,
            "teachers": population.teachers,
            "disadvantaged": population.disadvantaged,
            "capacity": population.capacity,
            "motivation": population.motivation,
        }
    )


def generated(scenario, seed: int):
    """The population a model of ``scenario`` with ``seed`` draws."""
    return generate_population(scenario.population, run_streams(seed).population)


def with_roster(scenario, path: Path):
    return scenario.with_updates({"population.roster": str(path)})


@pytest.fixture
def full_roster(tmp_path: Path) -> Path:
    path = tmp_path / "schools.csv"
    roster_of(generated(PILOT, 7)).assign(note="ignored column").to_csv(path, index=False)
    return path


def test_round_trip_the_results_hold_the_rosters_schools(tmp_path: Path, full_roster: Path):
    table = pd.read_csv(full_roster)
    for path in (full_roster, tmp_path / "schools.parquet"):
        table.to_parquet(tmp_path / "schools.parquet", index=False)
        res = simulate(with_roster(PILOT, path), replications=2, seed=3)
        for replicate in (0, 1):
            schools = res.schools(replicate=replicate)
            assert schools["id"].tolist() == table["id"].tolist()
            for column in ("country", "region"):
                assert schools[column].tolist() == table[column].tolist()
            for column in ("x", "y", "teachers", "disadvantaged", "motivation"):
                np.testing.assert_array_equal(schools[column], table[column])
            np.testing.assert_array_equal(schools["initial_capacity"], table["capacity"])
        assert res.runs["n_schools"].tolist() == [len(table)] * 2
        groups = res.group_summary
        assert set(groups.loc[groups["by"] == "country", "group"]) == set(table["country"])
        assert set(groups.loc[groups["by"] == "region", "group"]) == set(table["region"])
        assert read_roster(path).ignored == ("note",)


def test_a_saved_roster_run_reads_back_with_its_schools(tmp_path: Path, full_roster: Path):
    from mensi_sim import Results

    res = simulate(with_roster(PILOT, full_roster), replications=1, seed=3)
    res.save(tmp_path / "out")
    back = Results.load(tmp_path / "out")
    assert back.schools()["id"].tolist() == pd.read_csv(full_roster)["id"].tolist()
    pd.testing.assert_frame_equal(back.group_summary, res.group_summary)


@pytest.mark.parametrize("structure", POLICY)
def test_a_structure_builds_the_same_clusters_on_the_roster(tmp_path: Path, structure: str):
    sc = PILOT.with_updates({"network.structure": structure})
    seed = 11
    path = tmp_path / "pilot.csv"
    roster_of(generated(sc, seed)).to_csv(path, index=False)
    synthetic = MentoringModel(sc, rng=seed)
    from_roster = MentoringModel(with_roster(sc, path), rng=seed)
    a, b = synthetic.state, from_roster.state
    np.testing.assert_array_equal(a.role, b.role)
    np.testing.assert_array_equal(a.cluster, b.cluster)
    assert (a.role == ROLE_MENTOR).sum() > 0
    for field in ("src", "dst", "kind", "mode", "strength", "event"):
        a_field, b_field = getattr(synthetic.ties, field), getattr(from_roster.ties, field)
        np.testing.assert_array_equal(a_field, b_field)
    synthetic.run_for(60)
    from_roster.run_for(60)
    pd.testing.assert_frame_equal(synthetic.timeseries(), from_roster.timeseries())
    pd.testing.assert_frame_equal(synthetic.group_outcomes(), from_roster.group_outcomes())


def test_missing_attributes_are_drawn_as_for_generated_schools(tmp_path: Path):
    seed = 5
    pop = generated(PILOT, seed)
    table = roster_of(pop)[["id", "country", "region", "capacity"]]
    table.loc[3, "capacity"] = np.nan  # one school without a capacity: drawn
    table.to_csv(tmp_path / "some.csv", index=False)
    model = MentoringModel(with_roster(PILOT, tmp_path / "some.csv"), rng=seed)
    got = model.population
    # the same draws as without a roster: same locations, sizes, shares, motivation
    for name in ("x", "y", "teachers", "disadvantaged", "motivation", "capacity"):
        np.testing.assert_array_equal(getattr(got, name), getattr(pop, name))
    assert dict(got.drawn) == {
        "location": pop.n,
        "teachers": pop.n,
        "disadvantaged": pop.n,
        "capacity": 1,
        "motivation": pop.n,
    }


def test_selfie_scores_become_capacity(tmp_path: Path):
    rows = pd.DataFrame(
        {
            "id": ["a", "b", "c", "d", "e"],
            "country": "HR",
            "region": "Zagreb",
            "capacity": [0.9, None, None, None, None],
            "selfie": [1.0, 4.0, None, None, None],
            "selfie_leadership": [5, 5, 3, 2, None],
            "selfie_pedagogy_classroom": [5, 5, 4, None, None],
        }
    )
    rows.to_csv(tmp_path / "selfie.csv", index=False)
    capacity = read_roster(tmp_path / "selfie.csv").values["capacity"]
    # capacity first, then the overall score, then the mean of the areas given
    expected = [0.9, (4 - 1) / 4, ((3 + 4) / 2 - 1) / 4, (2 - 1) / 4, np.nan]
    np.testing.assert_allclose(capacity, expected, rtol=0, atol=1e-15)


def haversine_km(lat1, lon1, lat2, lon2):
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2 - lon1)
    h = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(h))


def test_latitude_and_longitude_become_km_within_one_percent():
    # schools over the whole of Italy (36.6 - 47.1 N, 6.6 - 18.5 E): the largest country
    rng = np.random.default_rng(0)
    lat, lon = rng.uniform(36.6, 47.1, 400), rng.uniform(6.6, 18.5, 400)
    x, y = laea_km(lat, lon)
    assert x.min() == 0 and y.min() == 0
    i, j = rng.integers(0, 400, (2, 2000))
    keep = i != j
    i, j = i[keep], j[keep]
    planar = np.hypot(x[i] - x[j], y[i] - y[j])
    true = haversine_km(lat[i], lon[i], lat[j], lon[j])
    assert np.max(np.abs(planar / true - 1)) < 0.01
    # one degree of latitude is 111.2 km on this sphere
    x, y = laea_km(np.array([45.0, 46.0]), np.array([10.0, 10.0]))
    degree = np.pi * EARTH_RADIUS_KM / 180
    assert np.hypot(x[1] - x[0], y[1] - y[0]) == pytest.approx(degree, rel=1e-4)


def test_volunteers_are_chosen_first_and_a_no_never_mentors(tmp_path: Path):
    seed = 2
    sc = PILOT.with_updates({"network.structure": "top_down"})
    table = roster_of(generated(sc, seed))
    plain = MentoringModel(with_roster(sc, _write(table, tmp_path / "a.csv")), rng=seed)
    mentors = np.flatnonzero(plain.state.role == ROLE_MENTOR)
    refuser = int(mentors[0])
    region = table.loc[refuser, "region"]
    in_region = table.index[table["region"] == region]
    volunteer = int(table.loc[in_region, "capacity"].idxmin())  # the weakest school volunteers
    hints = pd.Series("", index=table.index, dtype=object)
    hints[refuser], hints[volunteer] = "no", "yes"
    hinted = MentoringModel(
        with_roster(sc, _write(table.assign(volunteers_to_mentor=hints), tmp_path / "b.csv")),
        rng=seed,
    )
    role = hinted.state.role
    assert role[refuser] != ROLE_MENTOR and role[volunteer] == ROLE_MENTOR
    # everywhere else the same mentors
    others = ~table["region"].eq(region).to_numpy()
    np.testing.assert_array_equal(role[others], plain.state.role[others])
    # designed with its defaults takes the hints as top-down does: the same network
    hinted_csv = _write(table.assign(volunteers_to_mentor=hints), tmp_path / "d.csv")
    designed = MentoringModel(
        with_roster(sc.with_updates({"network.structure": "designed"}), hinted_csv), rng=seed
    )
    np.testing.assert_array_equal(designed.state.role, role)
    np.testing.assert_array_equal(designed.state.cluster, hinted.state.cluster)
    # bottom-up, every school opted in but none capable enough to offer: the volunteer is
    # the only mentor, and a capable school that said no is never one
    bu = sc.with_updates(
        {"network.structure": "bottom_up", "network.opt_in_base": 1.0,
         "network.mentor_min_capacity": 1.0}
    )  # fmt: skip
    model = MentoringModel(
        with_roster(bu, _write(table.assign(volunteers_to_mentor=hints), tmp_path / "c.csv")),
        rng=seed,
    )
    assert np.flatnonzero(model.state.role == ROLE_MENTOR).tolist() == [volunteer]
    cluster = model.state.cluster
    assert (cluster == cluster[volunteer]).sum() == 1 + bu.network.mentor_limit


def _write(table: pd.DataFrame, path: Path) -> Path:
    table.to_csv(path, index=False)
    return path


def _at(column: str, row: int, value=np.nan):  # noqa: ANN001 - any cell value
    """A change of a roster table: ``value`` in one cell."""

    def change(t: pd.DataFrame) -> pd.DataFrame:
        t = t.copy()
        t[column] = t[column].astype(object)
        t.loc[row, column] = value
        return t

    return change


BAD = [
    ("no id column", lambda t: t.drop(columns="id"), "needs column(s) id"),
    ("empty region", _at("region", 4), "row 5 (line 6), column region: empty"),
    ("duplicate id", _at("id", 9, "S002"), "row 10 (line 11), column id: 'S002' repeats row 3"),
    ("not a number", _at("teachers", 2, "many"), "row 3 (line 4), column teachers: 'many' is not"),
    ("share above 1", _at("disadvantaged", 7, 1.5), "disadvantaged: 1.5 must be >= 0 and <= 1"),
    ("no teachers", _at("teachers", 0, 0), "row 1 (line 2), column teachers: 0 must be finite"),
    ("selfie out of scale", lambda t: t.assign(selfie=6), "row 1 (line 2), column selfie: 6 must"),
    ("x without y", lambda t: t.drop(columns="y"), "column x needs column y"),
    ("a location missing", _at("x", 11), "row 12 (line 13), column x: empty; give the location"),
    ("bad hint", lambda t: _at(HINT, 0, "maybe")(t.assign(**{HINT: ""})), "'maybe' is not yes, no"),
]  # fmt: skip
HINT = "volunteers_to_mentor"


@pytest.mark.parametrize(("case", "change", "message"), BAD, ids=[b[0] for b in BAD])
def test_a_bad_roster_is_one_line_naming_row_and_column(tmp_path: Path, case, change, message):
    path = _write(change(roster_of(generated(PILOT, 1))), tmp_path / "bad.csv")
    scenario = tmp_path / "s.toml"
    scenario.write_text('[population]\nroster = "bad.csv"\n')
    with pytest.raises(RosterError) as err:
        load_scenario(scenario)
    text = str(err.value)
    assert "\n" not in text
    assert text.startswith(f"{scenario}: population.roster: {path}: ")
    assert message in text


# bytes a user's file can hold: another encoding, a binary file, UTF-16 (each refused with
# a hint), or the UTF-8 byte-order mark a spreadsheet's "CSV UTF-8" writes (accepted)
HOSTILE_BYTES = [
    ("latin-1", lambda b: b.replace(b"S004", b"S\xe804"), "is not UTF-8 (byte 0xe8 at line 6"),
    ("NUL byte", lambda b: b.replace(b"S004", b"S\x00004"), "holds a NUL byte at line 6, col"),
    ("UTF-16", lambda b: b"\xff\xfe" + b.decode().encode("utf-16-le"), "is UTF-16"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "change", "message"), HOSTILE_BYTES, ids=lambda v: str(v)[:9])
def test_hostile_bytes_in_a_roster_are_one_line(tmp_path: Path, case, change, message):
    path = _write(roster_of(generated(PILOT, 1)), tmp_path / "bad.csv")
    path.write_bytes(change(path.read_bytes()))
    scenario = tmp_path / "s.toml"
    scenario.write_text('[population]\nroster = "bad.csv"\n')
    with pytest.raises(RosterError) as err:
        load_scenario(scenario)
    assert "\n" not in str(err.value)
    assert str(err.value).startswith(f"{scenario}: population.roster: {path}: {message}")


def test_a_byte_order_mark_is_accepted_and_changes_nothing(tmp_path: Path):
    plain = _write(roster_of(generated(PILOT, 1)), tmp_path / "plain.csv")
    marked = tmp_path / "marked.csv"
    marked.write_bytes(b"\xef\xbb\xbf" + plain.read_bytes())
    one, two = (read_roster(p) for p in (plain, marked))
    assert list(one.ids) == list(two.ids) and one.country_codes == two.country_codes
    for name, values in one.values.items():
        np.testing.assert_array_equal(values, two.values[name])


def test_a_roster_over_the_size_limit_is_refused_unread(tmp_path: Path, monkeypatch):
    path = _write(roster_of(generated(PILOT, 1)), tmp_path / "big.csv")
    limit = path.stat().st_size - 1  # the real check, with the limit just below this file
    monkeypatch.setattr("mensi_sim.scenario.roster.MAX_ROSTER_BYTES", limit)
    with pytest.raises(RosterError) as err:
        read_roster(path)
    assert f"big.csv: is {path.stat().st_size / 1e6:.1f} MB; a file of this kind is at most" in str(
        err.value
    )


def test_the_command_line_reports_a_bad_roster_in_one_line(tmp_path: Path):
    _write(roster_of(generated(PILOT, 1)).drop(columns="region"), tmp_path / "bad.csv")
    (tmp_path / "s.toml").write_text('[population]\nroster = "bad.csv"\n')
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["run", str(tmp_path / "s.toml"), "--out", str(out)])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "needs column(s) region" in lines[0]
    assert lines[0].startswith(f"error: {tmp_path / 's.toml'}: population.roster: ")
    assert "Traceback" not in result.output and not out.exists()


def test_a_bad_roster_is_named_as_the_user_typed_it(tmp_path: Path, monkeypatch):
    _write(roster_of(generated(PILOT, 1)).drop(columns="region"), tmp_path / "bad.csv")
    (tmp_path / "s.toml").write_text('[population]\nroster = "bad.csv"\n')
    monkeypatch.chdir(tmp_path)  # the roster's path is resolved; shown relative to here
    result = CliRunner().invoke(app, ["validate", "s.toml"])
    assert result.exit_code == 1
    assert result.output.startswith("error: s.toml: population.roster: bad.csv: ")


def test_run_says_what_the_roster_gave_and_what_was_drawn(tmp_path: Path):
    table = roster_of(generated(PILOT, 2)).drop(columns=["motivation"]).assign(note="x")
    table.loc[[3, 8], "teachers"] = np.nan  # two sizes unknown: drawn
    _write(table, tmp_path / "schools.csv")
    (tmp_path / "s.toml").write_text('[population]\nroster = "schools.csv"\n[time]\nsteps = 3\n')
    args = ["run", str(tmp_path / "s.toml"), "--replications", "2", "--out", str(tmp_path / "o")]
    line, head = _roster_line(args, table)
    n = len(table)
    assert line == (
        f"{head}; drawn: number of teachers (2 of {n} schools); motivation ({n} of {n} "
        "schools); columns not used: note"
    )


def test_sweep_says_what_the_roster_gave(tmp_path: Path):
    """A sweep on a roster prints the same roster line as a run (from its manifest)."""
    table = roster_of(generated(PILOT, 3)).drop(columns=["capacity"])
    _write(table, tmp_path / "schools.csv")
    (tmp_path / "s.toml").write_text('[population]\nroster = "schools.csv"\n[time]\nsteps = 3\n')
    (tmp_path / "e.toml").write_text(
        'name = "e"\nreplications = 2\nroot_seed = 5\nexecutor = "serial"\n'
        '[base]\nscenario = "s.toml"\n'
        '[[factors.scenarios]]\nname = "none"\noverrides = { "network.structure" = "none" }\n'
    )
    args = ["sweep", str(tmp_path / "e.toml"), "--out", str(tmp_path / "o")]
    line, head = _roster_line(args, table)
    n = len(table)
    assert line == f"{head}; drawn: capacity (no capacity or SELFIE score) ({n} of {n} schools)"


def _roster_line(args: list[str], table: pd.DataFrame) -> tuple[str, str]:
    """The roster line a command printed, and what its start must say of ``table``."""
    result = CliRunner().invoke(app, args, env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    countries = list(dict.fromkeys(table["country"]))
    head = (
        f"roster schools.csv: {len(table)} schools in {len(countries)} countries "
        f"({', '.join(countries)}), {table['region'].nunique()} regions"
    )
    return next(x for x in result.output.splitlines() if x.startswith("roster ")), head


@pytest.mark.parametrize(
    ("name", "message"),
    [("missing.csv", "no such file"), ("schools.txt", "unknown format '.txt'")],
)
def test_a_missing_or_unknown_roster_file(tmp_path: Path, name: str, message: str):
    (tmp_path / "schools.txt").write_text("id,country,region\n1,HR,Zagreb\n")
    with pytest.raises(RosterError, match=message):
        PILOT.with_updates({"population.roster": str(tmp_path / name)})


def test_a_roster_of_several_files_is_one_population(tmp_path: Path):
    table = roster_of(generated(PILOT, 4))
    first, second = table.iloc[:50], table.iloc[50:]
    paths = [_write(first, tmp_path / "a.csv"), _write(second, tmp_path / "b.csv")]
    sc = PILOT.with_updates({"population.roster": [str(p) for p in paths]})
    assert sc.population.n_schools == len(table)
    assert MentoringModel(sc, rng=1).schools()["id"].tolist() == table["id"].tolist()
    _write(second.assign(id=["S000", *second["id"].iloc[1:]]), tmp_path / "b.csv")
    with pytest.raises(RosterError, match="column id: 'S000' is also in"):
        PILOT.with_updates({"population.roster": [str(p) for p in paths]})
