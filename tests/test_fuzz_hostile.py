"""Issue 15's classes of hostile input, drawn at random (tests/test_hostile_inputs.py has
one test per case the issue names; this file draws new cases of each class).

- **Nesting, before parsing.** Random valid TOML documents whose true depth (arrays and
  inline tables inside each other) and longest dotted key are known by construction, with
  brackets, braces, dots, quotes and ``#`` inside strings, comments and multi-line arrays:
  ``nesting_problem`` must refuse exactly those beyond ``MAX_NESTING`` or
  ``MAX_KEY_PARTS`` and say which limit, and ``tomllib`` must read every one (the
  generator writes only valid TOML).
- **Hostile scenario files** through ``validate`` and ``run``: the tiny valid scenario
  with one hostile change drawn (nesting or a dotted key beyond the limits at a random
  place, a BOM, another encoding, a NUL byte anywhere, an unknown key of 300 to 1,000,000
  characters, a file over 4 MB) and a name full of terminal escapes: one printable
  ``error:`` line of a sane length naming the file and the reason, nothing written; never
  the guard's internal error.
- **Hostile option values**: seeds from 2^63 to 2^200, precisions that are not finite or
  not positive, replications from 10^12 to 10^40, Dask addresses with ports that are not
  ports: refused up front with one line naming the option, nothing written.
- **Damaged batch folders** of a real sweep: a random batch, a random file of it and a
  random damage (truncated to a random length, a random byte flipped, bytes appended,
  deleted, replaced by another batch's file): the batch is found damaged, and a resume
  redoes it to the uninterrupted result bit for bit.

Hypothesis runs derandomized with a fixed ``max_examples`` (the counts are printed with
``-s`` and recorded in docs/VALIDATION.md).
"""

from __future__ import annotations

import json
import shutil
import tempfile
import tomllib
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_fuzz_inputs import (
    BASE,
    CONTROL,
    FUZZ,
    TINY,
    assert_clean_failure,
    built_once,
    invoke,
    listing,
)
from test_fuzz_inputs import to_toml as doc_to_toml
from test_hostile_inputs import TINY_SWEEP

from mensi_sim import sweep
from mensi_sim.experiments import load_experiment
from mensi_sim.experiments.batch_record import RECORD_NAME, batch_problem
from mensi_sim.experiments.runstore import batch_dirs
from mensi_sim.scenario.toml_limits import MAX_KEY_PARTS, MAX_NESTING, nesting_problem

NESTING_EXAMPLES = 200
FILE_EXAMPLES = 120
OPTION_EXAMPLES = 60
DAMAGE_EXAMPLES = 40
RESUMED_EXAMPLES = 6  # of the damaged folders, the first few are also resumed (a sweep each)
COUNTS: dict[str, int] = {}
KINDS: dict[str, int] = {}

# ---------------------------------------------------------------------------------------
# random TOML whose depth and key parts are known
# ---------------------------------------------------------------------------------------

TRICKY = "[]{}.#=,'\"\\ abc"  # what the scanner must not count inside strings and comments


def basic_string(chars: str) -> str:
    return '"' + chars.replace("\\", "\\\\").replace('"', '\\"') + '"'


tricky_text = st.text(alphabet=TRICKY, max_size=12)
bare_part = st.text(alphabet="abcXYZ019_-", min_size=1, max_size=6)
quoted_part = tricky_text.map(basic_string)
literal_part = st.text(alphabet='[]{}.#=," abc', max_size=8).map(lambda s: f"'{s}'")
any_part = st.one_of(bare_part, quoted_part, literal_part)
short_tail = st.lists(any_part, max_size=2)
# at the limits, where a dot or a bracket inside quotes, counted by mistake, would show
long_tail = st.lists(any_part, min_size=MAX_KEY_PARTS - 3, max_size=MAX_KEY_PARTS + 1)
deep = st.integers(MAX_NESTING - 3, MAX_NESTING + 2)

scalar = st.one_of(
    st.integers(-(10**6), 10**6).map(str),
    st.sampled_from(["0.5", "1e3", "-2.5e-3", "inf", "nan", "true", "false", "1979-05-27"]),
    tricky_text.map(basic_string),
    st.text(alphabet='[]{}.#=," abc\n', max_size=12).map(lambda s: "'''" + s + "'''"),
    st.text(alphabet="[]{}.#=,' abc\n", max_size=12).map(lambda s: '"""' + s + '"""'),
)


def key(first: str, tail: list[str]) -> tuple[str, int]:
    """A dotted key whose first part is unique in its table; (text, parts)."""
    return ".".join([first, *tail]), 1 + len(tail)


@st.composite
def nested_value(draw, depth: int) -> tuple[str, int]:
    """A value holding ``depth`` arrays or inline tables inside each other, with a scalar
    beside some levels; (text, the most parts of a key inside it)."""
    text, parts = draw(scalar), 1
    levels = draw(st.lists(st.sampled_from("[n{"), min_size=depth, max_size=depth))
    for kind in levels:  # from the innermost out
        beside = draw(st.one_of(st.none(), scalar))
        items = [text] if beside is None else [beside, text]
        if kind == "[":
            text = "[" + ", ".join(items) + "]"
        elif kind == "n":  # an array over several lines, with a comment
            comment = "# " + draw(tricky_text).replace("\n", "")
            text = "[\n  " + f",\n  {comment}\n  ".join(items) + ",\n]"
        else:  # an inline table: one line, unique first parts
            fields = []
            for i, item in enumerate(items):
                name, n = key(f"k{i}", draw(short_tail))
                parts = max(parts, n)
                fields.append(f"{name} = {item}")
            text = "{" + ", ".join(fields) + "}"
    return text, parts


@st.composite
def toml_document(draw) -> tuple[str, int, int]:
    """(text, deepest nesting, most key parts) of a random valid TOML document: shallow
    values and short keys, and maybe one value near the nesting limit and one key near the
    parts limit, on either side."""
    lines, depth, parts = [], 0, 1
    n_tables = draw(st.integers(0, 2))
    sizes = [draw(st.integers(1, 3)) for _ in range(n_tables + 1)]
    slots = sum(sizes) + n_tables  # assignments and table headers
    deep_at = draw(st.one_of(st.none(), st.integers(0, slots - 1)))
    long_at = draw(st.one_of(st.none(), st.integers(0, slots - 1)))
    slot = 0

    def tail() -> list[str]:
        return draw(long_tail if slot == long_at else short_tail)

    for t, size in enumerate(sizes):
        if t:
            name, n = key(f"h{t}", tail())
            parts = max(parts, n)
            lines.append(f"[{name}]" if draw(st.booleans()) else f"[[{name}]]")
            slot += 1
        for i in range(size):
            d = draw(deep if slot == deep_at else st.integers(0, 3))
            value, inner = draw(nested_value(d))
            name, n = key(f"v{i}", tail())
            depth, parts = max(depth, d), max(parts, n, inner)
            comment = draw(st.one_of(st.just(""), tricky_text.map(lambda s: "  # " + s)))
            lines.append(f"{name} = {value}{comment}")
            slot += 1
    return "\n".join(lines) + "\n", depth, parts


@settings(FUZZ, max_examples=NESTING_EXAMPLES)
@given(doc=toml_document())
def check_nesting(doc: tuple[str, int, int]) -> None:
    text, depth, parts = doc
    tomllib.loads(text)  # the generator writes valid TOML (well within tomllib's recursion)
    problem = nesting_problem(text)
    COUNTS["nesting"] += 1
    too_deep, too_long = depth > MAX_NESTING, parts > MAX_KEY_PARTS
    if not (too_deep or too_long):
        assert problem is None, (problem, text)
        return
    COUNTS["nesting_refused"] += 1
    assert problem is not None, text
    if too_deep and not too_long:
        assert f"nested more than {MAX_NESTING} deep" in problem, problem
    elif too_long and not too_deep:
        assert f"a dotted key of more than {MAX_KEY_PARTS} parts" in problem, problem


def test_fuzz_nesting_is_measured_exactly():
    COUNTS.update(nesting=0, nesting_refused=0)
    check_nesting()
    print(
        f"FUZZ nesting: {COUNTS['nesting']} documents, {COUNTS['nesting_refused']} beyond "
        "the limits"
    )
    assert 0 < COUNTS["nesting_refused"] < COUNTS["nesting"]  # both sides were drawn


# ---------------------------------------------------------------------------------------
# hostile scenario files through validate and run
# ---------------------------------------------------------------------------------------

ESCAPES = ["\x1b[31m", "\x1b]0;pwned\x07", "\u202e", "\u2066", "\x9b", "\x7f", "\x00", "\r"]
hostile_name = st.lists(
    st.one_of(st.sampled_from(ESCAPES), st.text("ab[]", max_size=3)), max_size=6
)


def scenario_named(name: str) -> str:
    """The tiny scenario with a name written in TOML's escapes (\\uXXXX for every control
    character: raw, TOML itself refuses them)."""
    rest = doc_to_toml({k: v for k, v in BASE.items() if k != "name"})
    return f"name = {json.dumps(name)}\n{rest}"


@st.composite
def hostile_file(draw) -> tuple[bytes, str, str]:
    """(bytes of a scenario file, what its error line must say, the kind of change)."""
    text = scenario_named("".join(draw(hostile_name)) or "fuzz")
    lines = text.splitlines(keepends=True)
    kind = draw(st.sampled_from(["deep", "dotted", "bom", "encoding", "nul", "long_key", "big"]))
    if kind == "deep":
        d = draw(st.integers(MAX_NESTING + 1, 40 * MAX_NESTING))
        openers = draw(st.lists(st.sampled_from(["[", "{a = "]), min_size=d, max_size=d))
        closers = "".join("]" if o == "[" else "}" for o in reversed(openers))
        # closed or cut short (what a hostile writer may send): refused either way
        value = "".join(openers) + "1" + (closers if draw(st.booleans()) else "")
        lines.insert(draw(st.integers(0, len(lines))), f"deep = {value}\n")
        return "".join(lines).encode(), "nested more than", kind
    if kind == "dotted":
        n = draw(st.integers(MAX_KEY_PARTS + 1, 60_000))
        at = draw(st.integers(0, len(lines)))
        lines.insert(at, "a" + ".a" * (n - 1) + " = 1\n")
        return "".join(lines).encode(), "dotted key of more than", kind
    if kind == "bom":
        return b"\xef\xbb\xbf" + text.encode(), "byte-order mark", kind
    if kind == "encoding":
        codec = draw(st.sampled_from(["utf-16", "utf-16-le", "utf-16-be", "utf-32", "latin-1"]))
        accented = text.replace('name = "', 'name = "Gen\xe8ve ', 1)
        needle = "not UTF-8" if codec == "latin-1" else ""
        return accented.encode(codec), needle, kind
    if kind == "nul":
        data = text.encode()
        at = draw(st.integers(0, len(data)))
        return data[:at] + b"\x00" + data[at:], "NUL byte", kind
    if kind == "long_key":
        n = draw(st.integers(300, 1_000_000))
        char = draw(st.sampled_from(["k", "_", "9", "-"]))
        section = draw(st.sampled_from(["population", "network", "adoption", "time"]))
        marker = f"[{section}]\n"
        if marker not in text:
            text += marker
        text = text.replace(marker, marker + char * n + " = 1\n", 1)
        return text.encode(), "unknown key", kind
    size = draw(st.integers(4 * 1024 * 1024 + 1, 6 * 1024 * 1024))  # big
    data = text.encode()
    return data + b"#" * (size - len(data) - 1) + b"\n", "at most 4 MB", kind


@settings(FUZZ, max_examples=FILE_EXAMPLES)
@given(case=hostile_file())
def check_hostile_file(case: tuple[bytes, str, str]) -> None:
    data, needle, kind = case
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = folder / "scenario.toml"
        path.write_bytes(data)
        before = listing(folder)
        assert_clean_failure(invoke("validate", path), str(path), needle, codes=(1,))
        res = invoke("run", path, "-r", "1", "--steps", "2", "--out", folder / "out")
        assert_clean_failure(res, str(path), needle, codes=(2,))
        assert listing(folder) == before
        COUNTS["files"] += 1
        KINDS[kind] = KINDS.get(kind, 0) + 1


def test_fuzz_hostile_scenario_files():
    COUNTS.update(files=0)
    KINDS.clear()
    with built_once():
        check_hostile_file()
    kinds = ", ".join(f"{k} {n}" for k, n in sorted(KINDS.items()))
    print(f"FUZZ hostile files: {COUNTS['files']} files through validate and run ({kinds})")
    assert len(KINDS) == 7  # every kind of change was drawn


@settings(FUZZ, max_examples=40)
@given(name=hostile_name.map("".join))
def check_hostile_name(name: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "s.toml"
        path.write_text(scenario_named(name or "x"), encoding="utf-8")
        res = invoke("validate", path)
        assert res.exit_code == 0, res.output
        line = res.stdout.rstrip("\n")
        assert "\n" not in line and res.stderr == ""
        assert not CONTROL.search(line), repr(line)
        COUNTS["names"] += 1


def test_fuzz_names_are_printed_neutralised():
    COUNTS.update(names=0)
    with built_once():
        check_hostile_name()
    print(f"FUZZ hostile names: {COUNTS['names']} names through validate")


# ---------------------------------------------------------------------------------------
# hostile option values, refused before anything runs
# ---------------------------------------------------------------------------------------

bad_port = st.one_of(
    st.integers(65536, 10**12).map(str),
    st.integers(-(10**6), 0).map(str),
    st.text(alphabet="abc:/%xyz.", min_size=1, max_size=8).filter(lambda s: not s.isdigit()),
)
hostile_option = st.one_of(
    st.tuples(st.just("run"), st.just("--seed"), st.integers(2**63, 2**200).map(str)),
    st.tuples(
        st.just("sweep"),
        st.just("--precision"),
        st.one_of(
            st.sampled_from(["inf", "-inf", "nan", "0", "-0.0", "1e999"]),
            st.floats(max_value=0, allow_nan=False).map(repr),
        ),
    ),
    st.tuples(
        st.sampled_from(["run", "sweep"]),
        st.just("--replications"),
        st.integers(10**12, 10**40).map(str),
    ),
    st.tuples(
        st.just("sweep"),
        st.just("--executor"),
        st.tuples(
            st.sampled_from(["tcp", "tls"]), st.sampled_from(["localhost", "127.0.0.1"])
        ).flatmap(lambda p: bad_port.map(lambda port: f"{p[0]}://{p[1]}:{port}")),
    ),
)


@settings(FUZZ, max_examples=OPTION_EXAMPLES)
@given(case=hostile_option)
def check_hostile_option(case: tuple[str, str, str]) -> None:
    command, option, value = case
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "tiny.toml").write_text(TINY, encoding="utf-8")
        (folder / "sweep.toml").write_text(TINY_SWEEP, encoding="utf-8")
        target = folder / ("tiny.toml" if command == "run" else "sweep.toml")
        before = listing(folder)
        res = invoke(command, target, option, value, "--out", folder / "o")
        needle = "executor" if option == "--executor" else option.lstrip("-")
        line = assert_clean_failure(res, codes=(2,))
        assert needle in line.lower(), line
        assert listing(folder) == before
        COUNTS["options"] += 1


def test_fuzz_hostile_option_values():
    COUNTS.update(options=0)
    with built_once():
        check_hostile_option()
    print(f"FUZZ hostile options: {COUNTS['options']} command lines")


# ---------------------------------------------------------------------------------------
# damaged batch folders of a real sweep
# ---------------------------------------------------------------------------------------

EXPERIMENT = """\
name = "small"
replications = 3
root_seed = 11
steps = 6
executor = "serial"
[base]
scenario = "tiny.toml"
[factors.grid]
"adoption.q" = [0.005, 0.01]
"""
FILES = ["runs.parquet", "summary.parquet", "timeseries.parquet", RECORD_NAME]


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    """A sweep in one-run batches (6 batch folders) and its result, made once."""
    root = tmp_path_factory.mktemp("damage")
    (root / "tiny.toml").write_text(TINY, encoding="utf-8")
    (root / "exp.toml").write_text(EXPERIMENT, encoding="utf-8")
    out = root / "sweep"
    fresh = sweep(load_experiment(root / "exp.toml"), executor="serial", out=out, batch=1)
    assert len(batch_dirs(out)) == 6
    return root / "exp.toml", out, fresh


damage = st.tuples(
    st.integers(0, 5),  # the batch
    st.sampled_from(FILES),  # its file
    st.sampled_from(["truncate", "flip", "append", "delete", "other"]),
    st.integers(0, 2**32),  # where (modulo the size)
    st.integers(1, 255),  # the bits flipped / the byte appended
)


def same_record(folder: Path, record: dict) -> bool:
    try:
        return json.loads((folder / RECORD_NAME).read_text()) == record
    except (OSError, ValueError):
        return False


def damage_file(out: Path, case: tuple[int, str, str, int, int]) -> Path:
    k, name, how, where, bits = case
    folders = batch_dirs(out)
    target = folders[k] / name
    data = target.read_bytes()
    if how == "truncate":
        target.write_bytes(data[: where % len(data)])
    elif how == "flip":
        i = where % len(data)
        target.write_bytes(data[:i] + bytes([data[i] ^ bits]) + data[i + 1 :])
    elif how == "append":
        target.write_bytes(data + bytes([bits]) * (1 + where % 64))
    elif how == "delete":
        target.unlink()
    else:  # the same file of another batch (of other runs)
        shutil.copy(folders[(k + 1 + where % 5) % 6] / name, target)
    return folders[k]


def test_fuzz_damaged_batches_are_found_and_redone(swept, tmp_path: Path) -> None:
    exp_path, good, fresh = swept
    counts = {"damaged": 0, "resumed": 0, "harmless": 0}

    @settings(FUZZ, max_examples=DAMAGE_EXAMPLES)
    @given(case=damage)
    def check(case) -> None:
        out = tmp_path / "res"
        shutil.rmtree(out, ignore_errors=True)
        shutil.copytree(good, out)
        record = json.loads((batch_dirs(good)[case[0]] / RECORD_NAME).read_text())
        folder = damage_file(out, case)
        problem = batch_problem(folder)
        if case[1] == RECORD_NAME and same_record(folder, record):
            # a whitespace byte changed or the last newline cut: still the same record,
            # and the batch is rightly trusted
            assert problem is None, (case, problem)
            counts["harmless"] += 1
            return
        assert problem is not None, case
        assert all(batch_problem(d) is None for d in batch_dirs(out) if d != folder)
        counts["damaged"] += 1
        if counts["resumed"] >= RESUMED_EXAMPLES:
            return
        for name in ("summary", "timeseries", "runs"):  # as after a kill
            (out / f"{name}.parquet").unlink()
        resumed = sweep(load_experiment(exp_path), executor="serial", out=out, resume=True)
        assert resumed.notes == [f"runs/{folder.name}: damaged ({problem}); its runs are redone"]
        pd.testing.assert_frame_equal(resumed.summary, fresh.summary, check_exact=True)
        pd.testing.assert_frame_equal(resumed.timeseries, fresh.timeseries, check_exact=True)
        counts["resumed"] += 1

    check()
    print(
        f"FUZZ damaged batches: {counts['damaged']} found damaged, "
        f"{counts['resumed']} of them resumed to the fresh result, {counts['harmless']} "
        "changes of a record that left it the same record"
    )
    assert counts["resumed"] == RESUMED_EXAMPLES
