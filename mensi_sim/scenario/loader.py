"""Reading scenario files (TOML) into validated ``Scenario`` objects."""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from mensi_sim import shipped
from mensi_sim.errors import RosterError, ScenarioError
from mensi_sim.files import UnreadableFile, missing, read_text
from mensi_sim.scenario.fields import allowed_range
from mensi_sim.scenario.schema import Scenario
from mensi_sim.scenario.toml_limits import nesting_problem


def _field_info(model: type[BaseModel], loc: tuple[Any, ...]) -> Any:
    """The FieldInfo at a pydantic error location, or None."""
    info = None
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        fields = getattr(current, "model_fields", None)
        if not fields or part not in fields:
            return None
        info = fields[part]
        ann = info.annotation
        current = None
        for cand in (ann, *getattr(ann, "__args__", ())):
            if isinstance(cand, type) and issubclass(cand, BaseModel):
                current = cand
            for sub in getattr(cand, "__args__", ()):
                if isinstance(sub, type) and issubclass(sub, BaseModel):
                    current = sub
    return info


#: a key longer than this is shown by its start and its length
MAX_KEY_SHOWN = 60


def _short_key(key: str) -> str:
    """A key of an error message, cut to its start when it is absurdly long."""
    if len(key) <= MAX_KEY_SHOWN:
        return key
    return f"{key[: MAX_KEY_SHOWN - 20]}... ({len(key):,} characters)"


def format_validation_error(err: ValidationError, where: str, model: type[BaseModel]) -> str:
    """One line: ``where: field.path: problem (allowed: range)`` for the first error."""
    first = err.errors()[0]
    loc = tuple(first.get("loc", ()))
    path = ".".join(_short_key(str(p)) for p in loc) or "(top level)"
    msg = first.get("msg", "invalid")
    if first.get("type") == "extra_forbidden":
        msg = "unknown key"
    elif first.get("type") == "missing":
        msg = "required key missing"
    info = _field_info(model, loc)
    rng = allowed_range(info) if info is not None else ""
    extra = f" (allowed: {rng})" if rng and "range" not in msg else ""
    if "input" in first and first.get("type") not in ("missing", "extra_forbidden"):
        val = first["input"]
        shown = repr(val) if not isinstance(val, dict) else "{...}"
        if len(shown) > 40:
            shown = shown[:37] + "..."
        msg = f"{msg}, got {shown}"
    more = f" [and {len(err.errors()) - 1} more]" if len(err.errors()) > 1 else ""
    line = f"{where}: {path}: {msg}{extra}{more}"
    return " ".join(line.split())


def read_toml(path: str | Path) -> dict[str, Any]:
    """Parse a TOML file, turning every failure into a one-line ScenarioError.

    The file is checked before it is parsed: its path (``files.path_problem``), its size
    (at most ``files.MAX_TEXT_BYTES``), its encoding (UTF-8 without BOM, no NUL byte) and
    how deep it nests (``toml_limits.nesting_problem``).
    """
    p = Path(path)
    try:
        text = read_text(p)
    except UnreadableFile as exc:
        raise ScenarioError(f"{p}: {exc}") from None
    problem = nesting_problem(text)
    if problem is not None:
        raise ScenarioError(f"{p}: not read: {problem}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{p}: not valid TOML: {exc}") from None
    except (RecursionError, MemoryError):  # beyond what nesting_problem measures
        raise ScenarioError(f"{p}: not read: the file nests too deeply") from None


def scenario_from_dict(data: dict[str, Any], where: str = "scenario") -> Scenario:
    """Validate a dictionary (as read from TOML) into a Scenario; errors name ``where``."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as err:
        raise ScenarioError(format_validation_error(err, where, Scenario)) from None
    except RosterError as err:  # raised by the roster's reader, not wrapped by pydantic
        raise RosterError(f"{where}: {err}") from None
    except (ValueError, TypeError) as err:
        raise ScenarioError(f"{where}: {err}") from None


def not_found(path: str | Path, kind: str) -> str:
    """``<path>: file not found``; for a bare name, with the shipped names of ``kind``."""
    shown = shipped.names(kind) if len(Path(path).parts) == 1 else []
    more = f" (nor a shipped {kind[:-1]}: {', '.join(shown)})" if shown else ""
    return f"{path}: file not found{more}"


def load_scenario(path: str | Path) -> Scenario:
    """Load and validate a scenario file, given by path or by the name of a shipped one.

    ``load_scenario("mensi_pilot")`` reads the shipped MenSI pilot (``shipped.locate``).
    Relative paths inside the file (``network.file``) are resolved against the
    file's folder. Raises ScenarioError with a one-line message on any problem.
    """
    p = shipped.locate(path, "scenarios")
    if missing(p):  # a path that cannot be read for another reason: read_toml says why
        raise ScenarioError(not_found(path, "scenarios"))
    data = read_toml(p)
    data = dict(data)
    data["source_path"] = str(p)
    net = data.get("network")
    file = net.get("file") if isinstance(net, dict) else None
    if isinstance(file, str) and file and "\x00" not in file:  # the schema refuses NUL
        f = Path(net["file"])
        if not f.is_absolute():
            net = dict(net)
            net["file"] = str((p.parent / f).resolve())
            data["network"] = net
    return scenario_from_dict(data, where=str(p))


def scenario_hash(scenario: Scenario) -> str:
    """A short stable hash of the scenario's parameters (not of where it was read from)."""
    payload = scenario.model_dump(mode="json", exclude={"source_path"})
    if not payload["programme"]["waves"]:  # no roll-out: the hash of before waves existed
        del payload["programme"]["waves"]
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()[:16]
