"""Scenario files: a name, a title and description for planners, and (later) levers.

A scenario is a TOML file in ``scenarios/library/`` (found by name) or anywhere (found by
path). Loading resolves it to a plain dictionary; its hash identifies it in run manifests.
Levers and ``extends`` arrive with the sub-models they steer.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path
from typing import Any

LIBRARY_DIR = Path(__file__).resolve().parent / "library"
ALLOWED_FIELDS = {"name": str, "title": dict, "description": dict}
LANGUAGES = ("nb", "en")


class ScenarioError(ValueError):
    """A scenario file is missing or invalid; the message names the file and field."""


def scenario_path(name_or_path: str) -> Path:
    """The file of a library scenario name, or the given path."""
    candidate = Path(name_or_path)
    if candidate.suffix == ".toml" or candidate.parent != Path("."):
        return candidate
    return LIBRARY_DIR / f"{name_or_path}.toml"


def library_names() -> list[str]:
    """Names of the scenarios shipped in the library."""
    return sorted(path.stem for path in LIBRARY_DIR.glob("*.toml"))


def load_scenario(name_or_path: str) -> dict[str, Any]:
    """Read and validate a scenario; return it resolved as a plain dictionary."""
    path = scenario_path(name_or_path)
    if not path.is_file():
        raise ScenarioError(
            f"{path}: scenario not found; library scenarios: {', '.join(library_names())}"
        )
    try:
        scenario = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ScenarioError(f"{path}: not valid TOML ({error})") from error
    for field, value in scenario.items():
        if field not in ALLOWED_FIELDS:
            raise ScenarioError(
                f"{path}: field '{field}' is unknown; allowed: {', '.join(ALLOWED_FIELDS)}"
            )
        if not isinstance(value, ALLOWED_FIELDS[field]):
            kind = ALLOWED_FIELDS[field].__name__
            raise ScenarioError(f"{path}: field '{field}' is {value!r}; allowed: a {kind}")
    if "name" not in scenario:
        raise ScenarioError(f"{path}: field 'name' missing")
    for field in ("title", "description"):
        texts = scenario.get(field, {})
        for language, text in texts.items():
            if language not in LANGUAGES or not isinstance(text, str):
                raise ScenarioError(
                    f"{path}: field '{field}.{language}' is {text!r}; allowed: text in "
                    f"{' or '.join(LANGUAGES)}"
                )
    return scenario


def scenario_hash(scenario: dict[str, Any]) -> str:
    """SHA-256 of the resolved scenario in canonical JSON."""
    canonical = json.dumps(scenario, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
