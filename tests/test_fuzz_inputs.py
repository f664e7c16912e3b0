"""Bad input, tried as a new user would: scenario files, graph files and command lines.

The contract (DESIGN.md section 4): every bad input ends with exit code non-zero and
exactly one line ``error: ...`` on stderr, no traceback, and no results directory (not
even a partial one). A valid input is accepted: ``validate`` prints one ``ok`` line.

Scenario files are a valid tiny scenario with one to three mutations drawn by
hypothesis: any key set to any type (text, huge and negative integers, NaN, inf, lists,
tables), unknown keys, missing or scalar sections, unknown structure names, impossible
structures (more mentors per region than schools, odd ring degrees, ...), research
graphs without ties, graph files that are empty, broken, or hold duplicate ids, bad
incentive schemes and courses, or the whole file replaced by random text or bytes. Each
goes through ``mensi-sim validate`` (which also builds the network once); when it fails
there, it also goes through ``mensi-sim run`` (which must fail the same way, write
nothing and print one line). Command lines are a valid file with one or two bad options
among good ones (``--replications 0``, ``--steps -1``, an unwritable or occupied
``--out``, unknown options, ...). Experiment files (``mensi_sim.experiments``) are
mutated the same way and loaded with ``load_experiment``; those it refuses must also be
refused by ``mensi-sim sweep``. Most cases run in-process (typer's CliRunner); a few run as
real processes. Hypothesis runs derandomized with a fixed ``max_examples``, so the
number of cases is reproducible; each test prints it (``-s``) and docs/VALIDATION.md
records it.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import typer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from mensi_sim.cli import app
from mensi_sim.cli.guard import MAX_ERROR_CHARS
from mensi_sim.errors import MensiError
from mensi_sim.scenario.schema import (
    AdoptionParams,
    ContactParams,
    CostParams,
    Course,
    EngagementParams,
    IncentiveScheme,
    LearningParams,
    NetworkParams,
    OpeningParams,
    PopulationParams,
    TimeParams,
)

SCENARIO_EXAMPLES = 300
OPTION_EXAMPLES = 150
EXPERIMENT_EXAMPLES = 150
FUZZ = settings(
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)

SECTIONS = {
    "time": TimeParams,
    "population": PopulationParams,
    "network": NetworkParams,
    "contacts": ContactParams,
    "learning": LearningParams,
    "adoption": AdoptionParams,
    "engagement": EngagementParams,
    "opening": OpeningParams,
    "costs": CostParams,
}
LEAVES = [(s, k) for s, m in SECTIONS.items() for k in m.model_fields] + [
    ("", "name"),
    ("", "description"),
]

# A valid tiny scenario every mutation starts from (30 schools, 2 weeks).
BASE: dict[str, Any] = {
    "name": "fuzz",
    "time": {"steps": 2},
    "population": {"n_schools": 30, "countries": ["IT", "PT"], "regions_per_country": 2},
    "network": {"structure": "top_down", "mentees_per_mentor": 2},
}


# ---------------------------------------------------------------------------
# writing TOML (the standard library only reads it)
# ---------------------------------------------------------------------------

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def toml_key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else json.dumps(key, ensure_ascii=False)


def toml_value(value: Any) -> str:
    """Inline TOML for a value; what TOML cannot hold (e.g. ints beyond 64 bits) gives a
    file that is not valid TOML, which is one more bad input."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(type(value))


def to_toml(doc: dict[str, Any]) -> str:
    """Top-level values first, then one [table] per dict-valued key."""
    lines = [f"{toml_key(k)} = {toml_value(v)}" for k, v in doc.items() if not isinstance(v, dict)]
    for key, table in doc.items():
        if isinstance(table, dict):
            lines.append(f"[{toml_key(key)}]")
            lines += [f"{toml_key(k)} = {toml_value(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------
# graph files a user might hand in with structure = "file"
# ---------------------------------------------------------------------------

GRAPHML_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<graphml xmlns="http://graphml.graphdrawing.org/xmlns">\n'
)


def graphml(nodes: list[str], edges: list[tuple[str, str]], extra: str = "") -> str:
    body = "".join(f'<node id="{n}"/>' for n in nodes)
    body += "".join(f'<edge source="{u}" target="{v}"/>' for u, v in edges)
    return f'{GRAPHML_HEAD}{extra}<graph edgedefault="undirected">{body}</graph></graphml>\n'


GRAPH_FILES: dict[str, dict[str, str] | None] = {
    # valid: five schools and no ties (an empty graph is a legitimate network)
    "no_edges.graphml": {"no_edges.graphml": graphml(list("abcde"), [])},
    # valid: one mentor and one mentee, from a CSV edge list and its node table
    "pair.csv": {
        "pair.csv": "source,target,kind\nm,e,mentoring\n",
        "pair.nodes.csv": "id,role\nm,mentor\ne,mentee\n",
    },
    # valid: self-loops only (dropped): one school, no ties
    "self_loop.csv": {"self_loop.csv": "source,target\n1,1\n"},
    "duplicate_ids.graphml": {"duplicate_ids.graphml": graphml(["a", "b", "a"], [("a", "b")])},
    "duplicate_ids.gexf": {
        "duplicate_ids.gexf": (
            '<?xml version="1.0" encoding="UTF-8"?><gexf xmlns="http://gexf.net/1.2" '
            'version="1.2"><graph defaultedgetype="undirected"><nodes><node id="1"/>'
            '<node id="1"/></nodes><edges/></graph></gexf>\n'
        )
    },
    "no_nodes.graphml": {"no_nodes.graphml": graphml([], [])},
    "broken.graphml": {"broken.graphml": GRAPHML_HEAD + "<graph><node id='a'>"},
    "not_xml.graphml": {"not_xml.graphml": "source,target\n1,2\n"},
    "header_only.csv": {"header_only.csv": "source,target\n"},
    "empty.csv": {"empty.csv": ""},
    "no_target.csv": {"no_target.csv": "from,to\n1,2\n"},
    "blank_target.csv": {"blank_target.csv": "source,target\n1,\n"},
    "bad_strength.csv": {"bad_strength.csv": "source,target,strength\n1,2,2.5\n"},
    "nan_strength.csv": {"nan_strength.csv": "source,target,strength\n1,2,abc\n"},
    "bad_kind.csv": {"bad_kind.csv": "source,target,kind\n1,2,friendship\n"},
    "bad_role.csv": {
        "bad_role.csv": "source,target\n1,2\n",
        "bad_role.nodes.csv": "id,role\n1,boss\n2,mentee\n",
    },
    "duplicate_node_rows.csv": {
        "duplicate_node_rows.csv": "source,target\n1,2\n",
        "duplicate_node_rows.nodes.csv": "id\n1\n1\n2\n",
    },
    "bad_capacity.csv": {
        "bad_capacity.csv": "source,target\n1,2\n",
        "bad_capacity.nodes.csv": "id,capacity\n1,1.5\n2,nan\n",
    },
    "network.txt": {"network.txt": "1 2\n"},
    "missing.graphml": None,  # the file does not exist
    "folder.graphml": {},  # a directory of that name (created below)
}


def write_graph_file(folder: Path, name: str) -> None:
    files = GRAPH_FILES[name]
    if files == {}:
        (folder / name).mkdir()
        return
    for file_name, text in (files or {}).items():
        (folder / file_name).write_text(text, encoding="utf-8")


# ---------------------------------------------------------------------------
# mutations of the base scenario
# ---------------------------------------------------------------------------

SPECIAL_INTS = [-(2**63), -(10**9), -1, 0, 1, 2, 3, 5, 7, 5201, 10**7, 2**63 - 1, 2**64]
SPECIAL_FLOATS = [
    math.nan,
    math.inf,
    -math.inf,
    -0.0,
    -1e-300,
    5e-324,
    1e-300,
    0.5,
    1.0,
    1.0000001,
    1e300,
    -1e300,
    1.7976931348623157e308,
]
scalars = st.one_of(
    st.sampled_from(SPECIAL_INTS),
    st.integers(-5, 300),
    st.sampled_from(SPECIAL_FLOATS),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.text(max_size=12),
    st.sampled_from(["", " ", "top_down", "IT", "mentors", "none", "nan", "1e9", "../x"]),
)
anything = st.one_of(
    scalars,
    st.lists(scalars, max_size=3),
    st.dictionaries(st.text(max_size=6), scalars, max_size=2),
)

IMPOSSIBLE = [
    {"network": {"structure": "top_down", "mentors_per_region": 20}},  # 7-8 per region
    {"network": {"structure": "hybrid", "mentors_per_region": 9}},
    {"network": {"structure": "ring_lattice", "graph_degree": 3}},
    {"network": {"structure": "ring_lattice", "graph_degree": 30}},
    {"network": {"structure": "watts_strogatz", "graph_degree": 40}},
    {"network": {"structure": "random_regular", "graph_degree": 31}},
    {
        "network": {"structure": "random_regular", "graph_degree": 3},
        "population": {"n_schools": 31},
    },
    {"network": {"structure": "barabasi_albert", "graph_m": 30}},
    {"network": {"structure": "virtual", "virtual_mentors_per_country": 16}},
    {
        "network": {
            "structure": "virtual",
            "virtual_scope": "cross_border",
            "virtual_mentors_per_country": 16,
        }
    },
    {"population": {"n_schools": 3, "regions_per_country": 4}},  # regions without schools
    {"adoption": {"initial": "count", "initial_count": 31}},
    {"adoption": {"initial": "ids", "initial_ids": [0, 30]}},
    {"population": {"countries": ["IT", "IT"]}},
    {"population": {"country_weights": [1.0]}},
    {"population": {"country_weights": [math.inf, 1.0]}},
    {"population": {"country_weights": [1e308, 1e308]}},
    {"population": {"country_weights": [0.0, 0.0]}},
    {"population": {"capacity_sd": 0.49}},
    {"population": {"country_capacity_shift": {"FR": 0.1}}},
    {"network": {"structure": "file"}},  # no file given
    {"network": {"structure": "erdos_renyi", "graph_p": 0.0}},  # valid: no ties at all
    {"network": {"structure": "complete"}, "population": {"n_schools": 1}},  # valid
    {"network": {"structure": "star"}, "population": {"n_schools": 1}},  # valid
]


def set_path(doc: dict, section: str, key: str, value: Any) -> None:
    if not section:
        doc[key] = value
        return
    table = doc.get(section)
    if not isinstance(table, dict):
        table = doc[section] = {}
    table[key] = value


def merge(doc: dict, update: dict) -> None:
    for section, values in update.items():
        for key, value in values.items():
            set_path(doc, section, key, value)


set_leaf = st.tuples(st.just("set"), st.sampled_from(LEAVES), anything)
unknown_key = st.tuples(
    st.just("unknown"),
    st.sampled_from(["", *SECTIONS]),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz_.", min_size=1, max_size=10),
    anything,
)
drop = st.tuples(
    st.just("drop"),
    st.sampled_from([*SECTIONS, "name", "population.n_schools", "network.structure", "time.steps"]),
)
scalar_section = st.tuples(
    st.just("scalar_section"), st.sampled_from([*SECTIONS, "training"]), scalars
)
structure = st.tuples(
    st.just("structure"),
    st.one_of(
        st.text(max_size=12),
        st.sampled_from(
            ["mesh", "Top_Down", "top-down", "random", "", "erdos renyi", "FILE", "none "]
        ),
    ),
)
impossible = st.tuples(st.just("impossible"), st.sampled_from(range(len(IMPOSSIBLE))))
graph_file = st.tuples(st.just("graph_file"), st.sampled_from(sorted(GRAPH_FILES)))
incentives = st.tuples(
    st.just("incentives"),
    st.lists(
        st.one_of(
            st.fixed_dictionaries(
                {
                    "type": st.sampled_from(
                        ["funding", "recognition", "release_time", "adoption_reward", "bribe", ""]
                    )
                },
                optional={k: anything for k in IncentiveScheme.model_fields if k != "type"},
            ),
            anything,
        ),
        max_size=3,
    ),
)
courses = st.tuples(
    st.just("courses"),
    st.lists(
        st.one_of(
            st.fixed_dictionaries({}, optional={k: anything for k in Course.model_fields}), anything
        ),
        max_size=2,
    ),
)
mutation = st.one_of(
    set_leaf,
    unknown_key,
    drop,
    scalar_section,
    structure,
    impossible,
    graph_file,
    incentives,
    courses,
)
raw_text = st.one_of(st.text(max_size=80), st.binary(max_size=80))


def apply_mutations(mutations: list[tuple], folder: Path) -> dict:
    doc = json.loads(json.dumps(BASE))
    for m in mutations:
        kind = m[0]
        if kind == "set":
            (section, key), value = m[1], m[2]
            set_path(doc, section, key, value)
        elif kind == "unknown":
            set_path(doc, m[1], m[2], m[3])
        elif kind == "drop":
            head, _, key = m[1].partition(".")
            if key and isinstance(doc.get(head), dict):
                doc[head].pop(key, None)
            elif not key:
                doc.pop(head, None)
        elif kind == "scalar_section":
            doc[m[1]] = m[2]
        elif kind == "structure":
            set_path(doc, "network", "structure", m[1])
        elif kind == "impossible":
            merge(doc, json.loads(json.dumps(IMPOSSIBLE[m[1]])))
        elif kind == "graph_file":
            write_graph_file(folder, m[1])
            set_path(doc, "network", "structure", "file")
            set_path(doc, "network", "file", m[1])
        elif kind == "incentives":
            doc["incentives"] = m[1]
        elif kind == "courses":
            doc["training"] = {"courses": m[1]}
    return doc


# ---------------------------------------------------------------------------
# the contract
# ---------------------------------------------------------------------------


def invoke(*args: Any):
    return CliRunner().invoke(app, [str(a) for a in args])


@contextlib.contextmanager
def built_once() -> Iterator[None]:
    """Build the click command of the app once for many invocations (typer rebuilds it on
    every CliRunner.invoke, half the time of a case); restored on exit."""
    command = typer.main.get_command(app)
    with mock.patch("typer.testing._get_command", lambda _app: command):
        yield


# the longest error line the command line prints (cli.guard.clip: about MAX_ERROR_CHARS)
MAX_LINE = len("error: ") + MAX_ERROR_CHARS + 40
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def assert_clean_failure(res, *needles: str, codes: tuple[int, ...] = (1, 2)) -> str:
    """Non-zero exit, exactly one ``error:`` line on stderr, nothing else, no traceback;
    the line is printable, of a sane length, and not the guard's internal error (an
    expected bad input never reaches the guard at the top)."""
    assert res.exit_code in codes, (res.exit_code, res.stdout, res.stderr)
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    lines = res.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    assert "Traceback" not in res.stderr + res.stdout
    assert res.stdout == "", res.stdout
    assert "internal error" not in lines[0], lines[0]
    assert len(lines[0]) <= MAX_LINE and not CONTROL.search(lines[0]), lines[0]
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


def listing(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


COUNTS: dict[str, int] = {}


@settings(FUZZ, max_examples=SCENARIO_EXAMPLES)
@given(content=st.one_of(st.lists(mutation, min_size=1, max_size=3), raw_text))
def check_scenario_file(content) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = folder / "scenario.toml"
        if isinstance(content, list):
            path.write_text(to_toml(apply_mutations(content, folder)), encoding="utf-8")
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        before = listing(folder)
        res = invoke("validate", path)
        COUNTS["validate"] += 1
        if res.exit_code == 0:
            COUNTS["valid"] += 1
            assert res.stderr == "", res.stderr  # no warnings either
            assert res.stdout.startswith(f"ok {path} (")
            return
        assert_clean_failure(res, str(path), codes=(1,))
        # run must refuse the same file: one line, exit 2, and nothing written
        out = folder / "out"
        res = invoke("run", path, "-r", "1", "--steps", "2", "--out", out)
        COUNTS["run"] += 1
        assert_clean_failure(res, str(path), codes=(2,))
        assert not out.exists() and listing(folder) == before


def test_fuzz_scenario_files():
    COUNTS.update(validate=0, valid=0, run=0)
    with built_once():
        check_scenario_file()
    print(
        f"FUZZ scenario files: {COUNTS['validate']} files through validate "
        f"({COUNTS['valid']} valid), {COUNTS['run']} invalid ones through run"
    )
    assert COUNTS["validate"] == SCENARIO_EXAMPLES
    assert 0 < COUNTS["valid"] < COUNTS["validate"] // 2


# ---------------------------------------------------------------------------
# command-line options
# ---------------------------------------------------------------------------

TINY = to_toml(BASE)
GOOD_OPTIONS = [
    ["-r", "1"],
    ["--replications", "2"],
    ["--steps", "2"],
    ["-s", "3"],
    ["--seed", "0"],
]
# (option tokens, text the error line must contain); {file}, {dir}, {full} are replaced
BAD_OPTIONS = [
    (["--replications", "0"], "--replications"),
    (["-r", "-1"], "-r"),
    (["--replications", "many"], "--replications"),
    (["--replications", "1.5"], "--replications"),
    (["--replications", ""], "--replications"),
    (["--replications", "1e3"], "--replications"),
    (["--steps", "0"], "--steps"),
    (["--steps", "-1"], "--steps"),
    (["--steps", "5201"], "time.steps"),
    (["--steps", "2.5"], "--steps"),
    (["--steps", "ten"], "--steps"),
    (["--seed", "-1"], "--seed"),
    (["-s", "x"], "-s"),
    (["--out", "{file}/res"], "not a directory"),
    (["-o", "{full}"], "not empty"),
    (["-o", "{full}", "--overwrite"], "not a results directory"),
    (["--out", "{file}"], "not a directory"),
    (["--out", "/dev/null/res"], "not a directory"),
    (["--out", "{dir}/" + "x" * 300 + "/res"], ""),
    (["--nope"], "--nope"),
    (["-z", "1"], "-z"),
    (["--replications"], "--replications"),
    (["--out"], "--out"),
    (["extra.toml"], "extra.toml"),
]


@settings(FUZZ, max_examples=OPTION_EXAMPLES)
@given(
    good=st.lists(st.sampled_from(range(len(GOOD_OPTIONS))), max_size=3, unique=True),
    bad=st.lists(st.sampled_from(range(len(BAD_OPTIONS))), min_size=1, max_size=2, unique=True),
    order=st.randoms(use_true_random=False),
)
def check_run_options(good, bad, order) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        scenario = folder / "tiny.toml"
        scenario.write_text(TINY, encoding="utf-8")
        (folder / "afile").write_text("not a folder")
        (folder / "full").mkdir()
        (folder / "full" / "notes.txt").write_text("keep me")
        # good options first (a later good --replications would override a bad one), bad
        # ones in random order after them, an option missing its value last
        groups = [
            [
                t.format(file=folder / "afile", dir=folder, full=folder / "full")
                for t in BAD_OPTIONS[i][0]
            ]
            for i in bad
        ]
        order.shuffle(groups)
        groups.sort(key=lambda g: len(g) == 1 and g[0] in ("--replications", "--out"))
        groups = [GOOD_OPTIONS[i] for i in good] + groups
        args = ["run", scenario, *[t for g in groups for t in g]]
        if not any("--out" in g or "-o" in g for g in groups):
            args += ["--out", folder / "res"]
        before = listing(folder)
        res = invoke(*args)
        COUNTS["options"] += 1
        assert_clean_failure(res, codes=(2,))
        assert listing(folder) == before, "a failed run left files behind"
        assert (folder / "full" / "notes.txt").read_text() == "keep me"


def test_fuzz_run_options():
    COUNTS.update(options=0)
    with built_once():
        check_run_options()
    print(f"FUZZ run options: {COUNTS['options']} command lines")
    assert COUNTS["options"] == OPTION_EXAMPLES


@pytest.mark.parametrize(("tokens", "needle"), BAD_OPTIONS, ids=lambda v: str(v)[:30])
def test_each_bad_option_names_itself(tmp_path: Path, tokens, needle):
    scenario = tmp_path / "tiny.toml"
    scenario.write_text(TINY, encoding="utf-8")
    (tmp_path / "afile").write_text("x")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "notes.txt").write_text("keep me")
    args = [t.format(file=tmp_path / "afile", dir=tmp_path, full=tmp_path / "full") for t in tokens]
    if not any(t in ("--out", "-o") for t in tokens):
        args = ["--out", tmp_path / "res", *args]
    before = listing(tmp_path)
    res = invoke("run", scenario, *args)
    assert_clean_failure(res, needle, codes=(2,))
    assert listing(tmp_path) == before


@pytest.mark.parametrize(
    "args",
    [["validate"], ["validate", "--nope", "x.toml"], ["run"], ["run", "--help-me"], ["frobnicate"]],
)
def test_usage_errors_are_one_line(args):
    assert_clean_failure(invoke(*args), codes=(2,))


# ---------------------------------------------------------------------------
# the default results directory comes from the scenario's name
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["../escaped", "a\u0000b"])
def test_default_results_directory_stays_under_results(tmp_path: Path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.toml").write_text(to_toml({**BASE, "name": name}), encoding="utf-8")
    res = invoke("run", "s.toml", "-r", "1")
    if res.exit_code != 0:
        assert_clean_failure(res, codes=(2,))
    assert sorted(p.name for p in tmp_path.iterdir()) in (["s.toml"], ["results", "s.toml"])


@pytest.mark.parametrize("name", ["[/x]", "[bold]x"])
def test_printed_names_are_not_markup(tmp_path: Path, name):
    path = tmp_path / "s.toml"
    path.write_text(to_toml({**BASE, "name": name}), encoding="utf-8")
    res = invoke("validate", path)
    assert res.exit_code == 0 and f"({name}: top_down" in res.stdout, res.output


# ---------------------------------------------------------------------------
# a handful of real processes
# ---------------------------------------------------------------------------


def cli_process(*args: Any, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mensi_sim.cli", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
        env={**os.environ, "PYTHONWARNINGS": "default"},
    )


PROCESS_CASES = {
    "nan": ("[adoption]\np = nan\n", ["run", "{s}", "--out", "{d}/res"], "adoption.p"),
    "replications_0": (
        TINY,
        ["run", "{s}", "--replications", "0", "--out", "{d}/res"],
        "--replications",
    ),
    "steps_minus_1": (TINY, ["run", "{s}", "--steps", "-1", "--out", "{d}/res"], "--steps"),
    "unwritable_out": (TINY, ["run", "{s}", "--out", "{d}/afile/res"], "not a directory"),
    "impossible": (
        to_toml({**BASE, "network": {"structure": "top_down", "mentors_per_region": 50}}),
        ["validate", "{s}"],
        "mentors_per_region",
    ),
    "duplicate_ids": (
        to_toml({**BASE, "network": {"structure": "file", "file": "duplicate_ids.graphml"}}),
        ["run", "{s}", "--out", "{d}/res"],
        "duplicate node id",
    ),
}


@pytest.mark.parametrize("case", sorted(PROCESS_CASES))
def test_bad_input_as_a_real_process(tmp_path: Path, case: str):
    text, args, needle = PROCESS_CASES[case]
    scenario = tmp_path / "s.toml"
    scenario.write_text(text, encoding="utf-8")
    (tmp_path / "afile").write_text("x")
    write_graph_file(tmp_path, "duplicate_ids.graphml")
    before = listing(tmp_path)
    done = cli_process(*[a.format(s=scenario, d=tmp_path) for a in args], cwd=tmp_path)
    assert done.returncode in (1, 2)
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0], done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert listing(tmp_path) == before


# ---------------------------------------------------------------------------
# regressions found by the fuzz
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("weights", [[math.inf, 1.0], [1e308, 1e308], [math.nan, 1.0]])
def test_country_weights_must_be_finite(tmp_path: Path, weights):
    # inf or an overflowing sum used to pass validation and crash the population split
    doc = json.loads(json.dumps(BASE))
    doc["population"]["country_weights"] = weights
    path = tmp_path / "s.toml"
    path.write_text(to_toml(doc), encoding="utf-8")
    assert_clean_failure(invoke("validate", path), "country_weights", codes=(1,))


# ---------------------------------------------------------------------------
# experiment files (mensi_sim.experiments, when present)
# ---------------------------------------------------------------------------


def _load_experiment():
    try:
        import mensi_sim.experiments as experiments
    except ImportError:
        return None
    loader = getattr(experiments, "load_experiment", None)
    if loader is None:
        try:
            from mensi_sim.experiments.spec import load_experiment as loader
        except ImportError:
            return None
    return loader


EXPERIMENT_BASE: dict[str, Any] = {
    "name": "fuzz_sweep",
    "base": {"scenario": "tiny.toml"},
    "replications": 2,
    "factors": {"grid": {"adoption.q": [0.005, 0.01]}},
}
EXPERIMENT_LEAVES = [
    ("", "name"),
    ("", "description"),
    ("", "replications"),
    ("", "root_seed"),
    ("", "steps"),
    ("", "outcomes"),
    ("", "executor"),
    ("", "baseline"),
    ("base", "scenario"),
    ("base", "overrides"),
    ("factors", "grid"),
    ("factors", "ranges"),
    ("factors", "samples"),
    ("factors", "scenarios"),
    ("adaptive", "precision"),
    ("adaptive", "outcome"),
    ("adaptive", "max_replications"),
    ("budget", "amount"),
    ("budget", "group_by"),
]
experiment_values = st.one_of(
    anything,
    st.sampled_from(
        [
            {"adoption.q": [0.01, 2.0]},
            {"adoption.nope": [1]},
            {"network.structure": ["mesh"]},
            {"adoption.q": []},
            {"adoption.q": [0.1, 0.1]},
            {"population.n_schools": [-1]},
            {"adoption.q": [0.0, 0.01]},
            {"adoption.q": [0.01, 0.0]},
            [{"method": "lhs", "n": 4}],
            [{"method": "sobol", "n": 3}],
            [{"method": "morris", "n": 2, "levels": 3}],
            [{"method": "magic", "n": 2}],
            [{"name": "a/b"}],
            [{"name": "x", "overrides": {"adoption.p": 7}}],
            [{"name": "x"}, {"name": "x"}],
            "missing.toml",
            "bad.toml",
            "tiny.toml",
            ["final_adoption_share", "happiness"],
            "tcp://",
            "tcp://host:8786",
            "dask",
        ]
    ),
)


@settings(FUZZ, max_examples=EXPERIMENT_EXAMPLES)
@given(
    mutations=st.lists(
        st.tuples(st.sampled_from(EXPERIMENT_LEAVES), experiment_values), min_size=1, max_size=3
    )
)
def check_experiment_file(mutations) -> None:
    load_experiment = _load_experiment()
    doc = json.loads(json.dumps(EXPERIMENT_BASE))
    for (section, key), value in mutations:
        set_path(doc, section, key, value)
    factors = doc.get("factors")
    if isinstance(factors, dict) and isinstance(factors.get("samples"), list):
        for s in factors["samples"]:  # keep designs small: n is what costs time
            if isinstance(s, dict) and isinstance(s.get("n"), int) and s["n"] > 64:
                s["n"] = 64
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "tiny.toml").write_text(TINY, encoding="utf-8")
        (folder / "bad.toml").write_text("[adoption]\np = 7\n", encoding="utf-8")
        path = folder / "sweep.toml"
        path.write_text(to_toml(doc), encoding="utf-8")
        COUNTS["experiments"] += 1
        try:
            load_experiment(path)
        except MensiError as err:
            message = str(err)
            assert "\n" not in message and str(path) in message, message
            COUNTS["experiment_errors"] += 1
        else:
            return  # a valid experiment: running it is not this test's business
        # the command line must refuse the same file: one line, exit 2, nothing written
        before = listing(folder)
        res = invoke("sweep", path, "--executor", "serial", "--out", folder / "out")
        COUNTS["sweeps"] += 1
        assert_clean_failure(res, str(path), codes=(2,))
        assert listing(folder) == before


def test_fuzz_experiment_files():
    assert _load_experiment() is not None, "mensi_sim.experiments.load_experiment is missing"
    COUNTS.update(experiments=0, experiment_errors=0, sweeps=0)
    with built_once():
        check_experiment_file()
    print(
        f"FUZZ experiment files: {COUNTS['experiments']} files through load_experiment "
        f"({COUNTS['experiment_errors']} refused), {COUNTS['sweeps']} refused ones through sweep"
    )
    assert COUNTS["experiments"] == EXPERIMENT_EXAMPLES


TINY_EXPERIMENT = to_toml(
    {
        "name": "sw",
        "replications": 2,
        "executor": "serial",
        "base": {"scenario": "tiny.toml"},
        "factors": {"grid": {"adoption.q": [0.005, 0.01]}},
    }
)
BAD_SWEEP_OPTIONS = [
    (["--replications", "0"], "--replications"),
    (["--workers", "0"], "--workers"),
    (["--steps", "0"], "--steps"),
    (["--steps", "5201"], "5201"),
    (["--executor", "bogus"], "bogus"),
    (["--precision", "-1"], "--precision"),
    (["--precision", "nan"], "--precision"),
    (["--precision", "0.1", "--outcome", "happiness"], "happiness"),
    (["--max-replications", "1"], "--max-replications"),
    (["--batch-size", "0"], "--batch-size"),
    (["--out", "{file}/res"], "irectory"),
    (["--nope"], "--nope"),
]


@pytest.mark.parametrize(("tokens", "needle"), BAD_SWEEP_OPTIONS, ids=lambda v: str(v)[:30])
def test_each_bad_sweep_option_names_itself(tmp_path: Path, tokens, needle):
    (tmp_path / "tiny.toml").write_text(TINY, encoding="utf-8")
    (tmp_path / "sweep.toml").write_text(TINY_EXPERIMENT, encoding="utf-8")
    (tmp_path / "afile").write_text("x")
    args = [t.format(file=tmp_path / "afile") for t in tokens]
    if "--out" not in tokens:
        args = ["--out", tmp_path / "res", *args]
    before = listing(tmp_path)
    res = invoke("sweep", tmp_path / "sweep.toml", *args)
    assert_clean_failure(res, needle, codes=(2,))
    assert listing(tmp_path) == before
