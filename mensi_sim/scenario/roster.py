"""School rosters: a ministry's own list of schools as the population (``population.roster``).

A roster is a CSV or Parquet file (or several, read one after the other) with one row
per school. Column names are matched without regard to case or surrounding spaces;
columns not listed here are ignored (and named in ``Roster.ignored``).

Required:

- ``id``: the school's id in the ministry's list (any text, unique over the roster);
- ``country``: country code (``BE-VLG``, ``HR``, ``CZ``, ``HU``, ``IT``, ``PT`` have
  staff hour rates, ``costs.staff_hour_rate_by_country``; other codes pay
  ``costs.staff_hour_rate``);
- ``region``: the region (or municipality) within its country; the same name in two
  countries is two regions.

Optional (an empty cell means "not known"):

- location: ``x`` and ``y`` in km, or ``lat`` and ``lon`` in degrees (WGS 84), given for
  every school or for none. Latitude and longitude become km by the spherical Lambert
  azimuthal equal-area projection centred on the roster's mean position (the method of
  Eurostat's ETRS89-LAEA grid, EPSG:3035, on a sphere of radius 6,371 km), shifted so that
  the smallest x and y are 0; within 1,000 km of the centre distances are true to about
  1 %. When both pairs are given, x and y are used.
- ``teachers``: number of teachers (> 0).
- ``disadvantaged``: share of disadvantaged pupils, in [0, 1].
- ``capacity`` in [0, 1]; or SELFIE scores on the 1-5 scale: ``selfie`` (one overall
  score) or one column per SELFIE area (``selfie_leadership``, ``selfie_collaboration``,
  ``selfie_infrastructure``, ``selfie_cpd``, ``selfie_pedagogy_resources``,
  ``selfie_pedagogy_classroom``, ``selfie_assessment``, ``selfie_student_competence``).
  A score s maps to ``c = (s - 1) / 4`` (docs/ODD.md 2.2); several areas combine as the
  unweighted mean of the areas the school has a score for. Per school, ``capacity``
  comes first, then ``selfie``, then the areas.
- ``motivation`` in [0, 1] (the latent motivation of bottom-up opt-in).
- ``volunteers_to_mentor``: ``yes`` (the school volunteers to mentor), ``no`` (it will not
  mentor), empty (no hint); also true/false, 1/0, y/n. Structures that choose mentors
  prefer volunteers and never choose a school that said no (``networks/structures.py``).

Every problem is a :class:`~mensi_sim.errors.RosterError` with one line naming the file
and, for a bad value, its row (1 = the first school; in a CSV file also its line) and
column. Reading is cached per file (path, size and modification time).
"""

from __future__ import annotations

import functools
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from mensi_sim.errors import RosterError
from mensi_sim.files import UnreadableFile, decode_text, read_bytes

REQUIRED = ("id", "country", "region")
SELFIE_AREAS = (
    "leadership",
    "collaboration",
    "infrastructure",
    "cpd",
    "pedagogy_resources",
    "pedagogy_classroom",
    "assessment",
    "student_competence",
)
SELFIE_AREA_COLUMNS = tuple(f"selfie_{a}" for a in SELFIE_AREAS)
#: numeric columns and their allowed range (low, high, whether low itself is allowed)
NUMERIC: dict[str, tuple[float, float, bool]] = {
    "x": (-np.inf, np.inf, True),
    "y": (-np.inf, np.inf, True),
    "lat": (-90.0, 90.0, True),
    "lon": (-180.0, 180.0, True),
    "teachers": (0.0, np.inf, False),
    "disadvantaged": (0.0, 1.0, True),
    "capacity": (0.0, 1.0, True),
    "motivation": (0.0, 1.0, True),
    "selfie": (1.0, 5.0, True),
    **{c: (1.0, 5.0, True) for c in SELFIE_AREA_COLUMNS},
}
HINT_COLUMN = "volunteers_to_mentor"
HINT_VALUES = {
    "yes": 1, "y": 1, "true": 1, "1": 1,
    "no": -1, "n": -1, "false": -1, "0": -1,
}  # fmt: skip
KNOWN = (*REQUIRED, *NUMERIC, HINT_COLUMN)
#: the school attributes a roster may give, each drawn as for generated schools where
#: it gives none (``Roster.given``)
ATTRIBUTES = ("location", "teachers", "disadvantaged", "capacity", "motivation")
#: how the report and the command line name each attribute
ATTRIBUTE_TEXT = {
    "location": "location",
    "teachers": "number of teachers",
    "disadvantaged": "share of disadvantaged pupils",
    "capacity": "capacity (no capacity or SELFIE score)",
    "motivation": "motivation",
}
EARTH_RADIUS_KM = 6371.0088  # mean Earth radius (IUGG)
SUFFIXES = (".csv", ".parquet", ".pq")
# about 10 million schools of a CSV with every column: far more than Europe's ~250,000
MAX_ROSTER_BYTES = 1_000_000_000
UTF8_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class Roster:
    """The schools of a roster, validated; one entry per school, in file order.

    Attributes:
        paths: The files read, in order.
        ids: School ids (str, unique).
        country: Index into ``country_codes`` per school.
        country_codes: Country codes in order of first appearance.
        region: Region id per school, country-major (the regions of the first country
            first, each country's regions in order of first appearance).
        region_names: The name of each region id.
        values: Per-school floats, NaN where unknown: ``x``, ``y`` (km, from x/y or
            lat/lon), ``teachers``, ``disadvantaged``, ``capacity`` (from capacity or
            SELFIE scores), ``motivation``.
        mentor_hint: int8 per school: 1 volunteers to mentor, -1 will not, 0 no hint.
        location: ``"x/y"``, ``"lat/lon"`` or ``""`` (no location given).
        ignored: Columns that are not roster columns (not used).
    """

    paths: tuple[str, ...]
    ids: np.ndarray
    country: np.ndarray
    country_codes: tuple[str, ...]
    region: np.ndarray
    region_names: tuple[str, ...]
    values: dict[str, np.ndarray]
    mentor_hint: np.ndarray
    location: str
    ignored: tuple[str, ...]

    @property
    def n(self) -> int:
        """Number of schools."""
        return int(self.ids.size)

    def missing(self, attribute: str) -> int:
        """Schools without a value of ``attribute`` (one of ``ATTRIBUTES``)."""
        if attribute == "location":
            return 0 if self.location else self.n
        return int(np.count_nonzero(np.isnan(self.values[attribute])))

    @property
    def drawn(self) -> tuple[tuple[str, int], ...]:
        """(attribute, number of schools it is drawn for) for every attribute drawn for any."""
        counts = ((a, self.missing(a)) for a in ATTRIBUTES)
        return tuple((a, k) for a, k in counts if k)


def _shown(path: Path) -> Path:
    """``path`` as the user would type it: relative to the working directory when inside it
    (the scenario's roster paths are resolved to absolute ones)."""
    cwd = Path.cwd()
    try:
        return Path(path).relative_to(cwd) if cwd != Path(cwd.anchor) else Path(path)
    except ValueError:
        return Path(path)


def _fail(path: Path, message: str) -> RosterError:
    return RosterError(f"population.roster: {_shown(path)}: {message}")


def _where(path: Path, row: int) -> str:
    """Row ``row`` (0-based) as a user reads it: 1-based, and the line in a CSV file."""
    line = f" (line {row + 2})" if path.suffix.lower() == ".csv" else ""
    return f"row {row + 1}{line}"


def _within_size(path: Path) -> None:
    size = path.stat().st_size
    if size > MAX_ROSTER_BYTES:
        raise UnreadableFile(
            f"is {size / 1e6:.1f} MB; a roster is at most {MAX_ROSTER_BYTES / 1e6:.0f} MB"
        )


def _csv_text(path: Path) -> str:
    """A CSV roster's text: UTF-8, at most MAX_ROSTER_BYTES, without NUL bytes (a hint for
    another encoding or a binary file); the UTF-8 byte-order mark that spreadsheet programs
    write ("CSV UTF-8") is accepted and dropped."""
    data = read_bytes(path, MAX_ROSTER_BYTES)
    return decode_text(data.removeprefix(UTF8_BOM))


def _read_frame(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise _fail(path, "no such file")
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise _fail(path, f"unknown format {suffix or '(no suffix)'!r}; use .csv or .parquet")
    try:
        if suffix == ".csv":
            frame = pd.read_csv(
                io.StringIO(_csv_text(path)), dtype=str, keep_default_na=False, na_values=[""]
            )
        else:
            _within_size(path)
            frame = pd.read_parquet(path)
    except UnreadableFile as exc:
        raise _fail(path, str(exc)) from None
    except Exception as exc:  # noqa: BLE001 - every reader failure becomes one line
        text = " ".join(str(exc).split()) or type(exc).__name__
        kind = "CSV" if suffix == ".csv" else "Parquet"
        raise _fail(path, f"cannot read {kind}: {text}") from None
    names = [str(c).strip().lower() for c in frame.columns]
    seen = {n for n in names if names.count(n) > 1}
    if seen:
        raise _fail(path, f"column {sorted(seen)[0]!r} appears twice")
    frame.columns = names
    if frame.empty:
        raise _fail(path, "has no schools (rows)")
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise _fail(path, f"needs column(s) {', '.join(missing)}")
    return frame.reset_index(drop=True)


def _text(path: Path, frame: pd.DataFrame, column: str) -> np.ndarray:
    """A required text column, stripped; RosterError at its first empty cell."""
    values = frame[column]
    text = values.astype("string").str.strip()
    empty = values.isna().to_numpy() | (text == "").fillna(True).to_numpy()
    if empty.any():
        row = int(np.flatnonzero(empty)[0])
        raise _fail(path, f"{_where(path, row)}, column {column}: empty")
    return text.to_numpy(dtype=object)


def _number(path: Path, frame: pd.DataFrame, column: str) -> np.ndarray:
    """A numeric column as floats (NaN where empty); RosterError at its first bad value."""
    raw = frame[column]
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        values = raw.to_numpy(dtype=float)
        given = ~np.isnan(values)
    else:
        text = raw.astype("string").str.strip()
        given = (raw.notna() & (text != "")).fillna(False).to_numpy()
        values = pd.to_numeric(text.where(given), errors="coerce").to_numpy(dtype=float)
        bad = given & np.isnan(values)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise _fail(
                path, f"{_where(path, row)}, column {column}: {raw.iloc[row]!r} is not a number"
            )
    low, high, closed = NUMERIC[column]
    with np.errstate(invalid="ignore"):
        ok = np.isnan(values) | (
            ((values >= low) if closed else (values > low)) & (values <= high) & np.isfinite(values)
        )
    if not ok.all():
        row = int(np.flatnonzero(~ok)[0])
        rule = f"{'>=' if closed else '>'} {low:g} and <= {high:g}"
        if not np.isfinite(high):
            rule = f"finite and {'>=' if closed else '>'} {low:g}"
        if not np.isfinite(low):
            rule = "finite"
        raise _fail(path, f"{_where(path, row)}, column {column}: {values[row]:g} must be {rule}")
    return np.where(given, values, np.nan)


def _hints(path: Path, frame: pd.DataFrame) -> np.ndarray:
    if HINT_COLUMN not in frame.columns:
        return np.zeros(len(frame), dtype=np.int8)
    raw = frame[HINT_COLUMN]
    text = raw.astype("string").str.strip().str.lower().fillna("")
    hints = np.zeros(len(frame), dtype=np.int8)
    for row, value in enumerate(text.tolist()):
        if value in ("", "nan"):
            continue
        if value not in HINT_VALUES:
            raise _fail(
                path,
                f"{_where(path, row)}, column {HINT_COLUMN}: {raw.iloc[row]!r} is not yes, no "
                "or empty",
            )
        hints[row] = HINT_VALUES[value]
    return hints


def _pair(path: Path, frame: pd.DataFrame, a: str, b: str) -> np.ndarray | None:
    """Columns a and b as an (n, 2) array, or None when neither is there."""
    have = [c for c in (a, b) if c in frame.columns]
    if not have:
        return None
    if len(have) == 1:
        other = b if have[0] == a else a
        raise _fail(path, f"column {have[0]} needs column {other}")
    pair = np.column_stack([_number(path, frame, a), _number(path, frame, b)])
    known = ~np.isnan(pair)
    if not known.any():
        return None
    if not known.all():
        row, col = (int(i) for i in np.argwhere(~known)[0])
        raise _fail(
            path,
            f"{_where(path, row)}, column {(a, b)[col]}: empty; give the location of every "
            "school or of none",
        )
    return pair


def laea_km(lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Latitude and longitude (degrees) as x, y in km: spherical Lambert azimuthal
    equal-area projection centred on the mean position, shifted to a minimum of 0.

    ``k = sqrt(2 / (1 + sin p0 sin p + cos p0 cos p cos(l - l0)))``,
    ``x = R k cos p sin(l - l0)``, ``y = R k (cos p0 sin p - sin p0 cos p cos(l - l0))``.
    Written here rather than taken from pyproj: one formula, and no PROJ data files to
    install; the spherical form differs from the ellipsoidal EPSG:3035 by well under 1 %
    in distances, far below what travel costs are known to.
    """
    phi, lam = np.radians(lat), np.radians(lon)
    # mean position as the normalised mean of the unit vectors (robust across 180 degrees)
    vx, vy, vz = np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)
    mx, my, mz = vx.mean(), vy.mean(), vz.mean()
    phi0, lam0 = np.arctan2(mz, np.hypot(mx, my)), np.arctan2(my, mx)
    dlam = lam - lam0
    cos_c = np.sin(phi0) * np.sin(phi) + np.cos(phi0) * np.cos(phi) * np.cos(dlam)
    k = np.sqrt(2.0 / np.maximum(1.0 + cos_c, 1e-12))
    x = EARTH_RADIUS_KM * k * np.cos(phi) * np.sin(dlam)
    north = np.cos(phi0) * np.sin(phi) - np.sin(phi0) * np.cos(phi) * np.cos(dlam)
    y = EARTH_RADIUS_KM * k * north
    return x - x.min(), y - y.min()


def _capacity(path: Path, frame: pd.DataFrame) -> np.ndarray:
    """Capacity per school: the capacity column, else (selfie - 1) / 4, else the mean of
    the SELFIE areas given, mapped the same way; NaN when none is given."""
    n = len(frame)
    capacity = np.full(n, np.nan)
    if "capacity" in frame.columns:
        capacity = _number(path, frame, "capacity")
    if "selfie" in frame.columns:
        overall = (_number(path, frame, "selfie") - 1.0) / 4.0
        capacity = np.where(np.isnan(capacity), overall, capacity)
    areas = [c for c in SELFIE_AREA_COLUMNS if c in frame.columns]
    if areas:
        scores = np.column_stack([_number(path, frame, c) for c in areas])
        count = np.count_nonzero(~np.isnan(scores), axis=1)
        total = np.nansum(scores, axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(count > 0, total / np.maximum(count, 1), np.nan)
        capacity = np.where(np.isnan(capacity), (mean - 1.0) / 4.0, capacity)
    return capacity


@dataclass(frozen=True)
class _Part:
    """One file of a roster, validated."""

    path: Path
    ids: np.ndarray
    country: np.ndarray
    region: np.ndarray
    values: dict[str, np.ndarray]
    latlon: np.ndarray | None
    xy: np.ndarray | None
    hints: np.ndarray
    ignored: tuple[str, ...]


def _read_part(path: Path) -> _Part:
    frame = _read_frame(path)
    ids = _text(path, frame, "id")
    dup = pd.Series(ids).duplicated(keep="first").to_numpy()
    if dup.any():
        row = int(np.flatnonzero(dup)[0])
        first = int(np.flatnonzero(ids == ids[row])[0])
        raise _fail(
            path, f"{_where(path, row)}, column id: {ids[row]!r} repeats {_where(path, first)}"
        )
    n = len(frame)
    values = {
        c: _number(path, frame, c) if c in frame.columns else np.full(n, np.nan)
        for c in ("teachers", "disadvantaged", "motivation")
    }
    values["capacity"] = _capacity(path, frame)
    return _Part(
        path=path,
        ids=ids,
        country=_text(path, frame, "country"),
        region=_text(path, frame, "region"),
        values=values,
        latlon=_pair(path, frame, "lat", "lon"),
        xy=_pair(path, frame, "x", "y"),
        hints=_hints(path, frame),
        ignored=tuple(c for c in frame.columns if c not in KNOWN),
    )


def _location_kind(part: _Part) -> str:
    if part.xy is not None:
        return "x/y"
    return "lat/lon" if part.latlon is not None else ""


@functools.lru_cache(maxsize=16)
def _cached_part(path: str, size: int, mtime_ns: int) -> _Part:
    return _read_part(Path(path))


def read_roster(paths: str | Path | list[str] | tuple[str, ...]) -> Roster:
    """Read and validate a roster from one file or several (concatenated, in order).

    Raises:
        RosterError: One line naming the file, and for a bad value its row and column.
    """
    if isinstance(paths, str | Path):
        paths = [paths]
    if not paths:
        raise RosterError("population.roster: no file given")
    keys = []
    for p in paths:
        try:
            stat = Path(p).stat()
        except OSError:
            raise _fail(Path(p), "no such file") from None
        keys.append((str(p), stat.st_size, stat.st_mtime_ns))
    return _cached_roster(tuple(keys))


@functools.lru_cache(maxsize=8)
def _cached_roster(keys: tuple[tuple[str, int, int], ...]) -> Roster:
    """The roster of these files (path, size, modification time), read once."""
    parts = [_cached_part(*key) for key in keys]
    ids = np.concatenate([p.ids for p in parts])
    seen: dict[str, Path] = {}
    for part in parts:
        for school in part.ids.tolist():
            if school in seen:
                raise _fail(part.path, f"column id: {school!r} is also in {_shown(seen[school])}")
        seen.update(dict.fromkeys(part.ids.tolist(), part.path))
    kinds = {_location_kind(p) for p in parts}
    if len(kinds) > 1:
        raise _fail(
            parts[0].path,
            "every file of a roster gives locations the same way (x/y, lat/lon or none); "
            f"these give {', '.join(sorted(k or 'none' for k in kinds))}",
        )
    location = kinds.pop()
    values = {k: np.concatenate([p.values[k] for p in parts]) for k in parts[0].values}
    if location == "x/y":
        xy = np.concatenate([p.xy for p in parts])
        values["x"], values["y"] = xy[:, 0], xy[:, 1]
    elif location == "lat/lon":
        latlon = np.concatenate([p.latlon for p in parts])
        values["x"], values["y"] = laea_km(latlon[:, 0], latlon[:, 1])
    else:
        values["x"] = values["y"] = np.full(ids.size, np.nan)
    country_text = np.concatenate([p.country for p in parts])
    region_text = np.concatenate([p.region for p in parts])
    codes = tuple(dict.fromkeys(country_text.tolist()))
    country = pd.Categorical(country_text, categories=list(codes)).codes.astype(np.int32)
    # regions country-major: the first country's regions first, each in order of appearance
    pairs = dict.fromkeys(zip(country.tolist(), region_text.tolist(), strict=True))
    ordered = sorted(pairs, key=lambda cr: cr[0])  # stable: appearance order within a country
    region_of = {cr: i for i, cr in enumerate(ordered)}
    region = np.fromiter(
        (region_of[cr] for cr in zip(country.tolist(), region_text.tolist(), strict=True)),
        dtype=np.int32,
        count=ids.size,
    )
    for array in (ids, country, region, *values.values()):
        array.flags.writeable = False
    ignored = tuple(dict.fromkeys(c for p in parts for c in p.ignored))
    return Roster(
        paths=tuple(str(p.path) for p in parts),
        ids=ids,
        country=country,
        country_codes=codes,
        region=region,
        region_names=tuple(name for _, name in ordered),
        values=values,
        mentor_hint=np.concatenate([p.hints for p in parts]),
        location=location,
        ignored=ignored,
    )


@functools.lru_cache(maxsize=16)
def _digest(path: str, size: int, mtime_ns: int) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def describe_roster(files: tuple[str, ...] | list[str]) -> dict:
    """What a manifest records of a roster: its files with their SHA-256, the number of
    schools, the countries, the attributes drawn (and for how many schools) and the
    columns ignored."""
    roster = read_roster(list(files))
    entries = []
    for path in roster.paths:
        stat = Path(path).stat()
        entries.append(
            {"path": path, "sha256": _digest(path, stat.st_size, stat.st_mtime_ns),
             "bytes": stat.st_size}
        )  # fmt: skip
    return {
        "files": entries,
        "schools": roster.n,
        "countries": list(roster.country_codes),
        "regions": len(roster.region_names),
        "location": roster.location or "drawn",
        "drawn": dict(roster.drawn),
        "ignored_columns": list(roster.ignored),
    }


def drawn_attributes(record: dict) -> list[str]:
    """What a roster record (``describe_roster``) says was drawn, one phrase per attribute
    in ``ATTRIBUTES`` order: "number of teachers (134 of 1,340 schools)"."""
    n = int(record.get("schools", 0))
    drawn = record.get("drawn") or {}
    return [
        f"{ATTRIBUTE_TEXT[a]} ({int(drawn[a]):,} of {n:,} schools)"
        for a in ATTRIBUTES
        if int(drawn.get(a, 0))
    ]


def roster_line(record: dict) -> str:
    """One plain line on a roster record for the command line: its files, schools,
    countries, what was drawn and the columns not used."""
    names = ", ".join(Path(f["path"]).name for f in record.get("files", []))
    drawn = drawn_attributes(record)
    ignored = record.get("ignored_columns") or []
    synthetic = "synthetic" in names.lower()
    codes = list(record.get("countries", []))
    return (
        f"roster {names}{' (SYNTHETIC schools)' if synthetic else ''}: "
        f"{int(record.get('schools', 0)):,} schools in {len(codes)} "
        f"{'country' if len(codes) == 1 else 'countries'} ({', '.join(codes)}), "
        f"{int(record.get('regions', 0)):,} regions; "
        + ("drawn: " + "; ".join(drawn) if drawn else "nothing drawn")
        + (f"; columns not used: {', '.join(ignored)}" if ignored else "")
    )
