"""Reading scenario files (TOML) into validated ``Scenario`` objects."""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from mensi_sim.errors import RosterError, ScenarioError
from mensi_sim.scenario.fields import allowed_range
from mensi_sim.scenario.schema import Scenario


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


def format_validation_error(err: ValidationError, where: str, model: type[BaseModel]) -> str:
    """One line: ``where: field.path: problem (allowed: range)`` for the first error."""
    first = err.errors()[0]
    loc = tuple(first.get("loc", ()))
    path = ".".join(str(p) for p in loc) or "(top level)"
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
    """Parse a TOML file, turning every failure into a one-line ScenarioError."""
    p = Path(path)
    if not p.exists():
        raise ScenarioError(f"{p}: file not found")
    if not p.is_file():
        raise ScenarioError(f"{p}: not a file")
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{p}: cannot read: {exc}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{p}: not valid TOML: {exc}") from None


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


def load_scenario(path: str | Path) -> Scenario:
    """Load and validate a scenario file.

    Relative paths inside the file (``network.file``) are resolved against the
    file's folder. Raises ScenarioError with a one-line message on any problem.
    """
    p = Path(path)
    data = read_toml(p)
    data = dict(data)
    data["source_path"] = str(p)
    net = data.get("network")
    if isinstance(net, dict) and isinstance(net.get("file"), str) and net["file"]:
        f = Path(net["file"])
        if not f.is_absolute():
            net = dict(net)
            net["file"] = str((p.parent / f).resolve())
            data["network"] = net
    return scenario_from_dict(data, where=str(p))


def scenario_hash(scenario: Scenario) -> str:
    """A short stable hash of the scenario's parameters (not of where it was read from)."""
    payload = scenario.model_dump(mode="json", exclude={"source_path"})
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()[:16]
