"""The dashboard's texts in bokmål and English, from ``dashboard/strings.toml``."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

STRINGS_PATH = Path(__file__).resolve().parent / "strings.toml"
LANGUAGES = ("nb", "en")
DEFAULT_LANGUAGE = "nb"


@lru_cache(maxsize=1)
def strings() -> dict[str, Any]:
    """The whole catalogue: section -> key -> language -> text."""
    return tomllib.loads(STRINGS_PATH.read_text(encoding="utf-8"))


def text(key: str, language: str = DEFAULT_LANGUAGE, **values: Any) -> str:
    """The text of ``section.key`` in ``language``, with ``{name}`` fields filled in."""
    section, name = key.split(".", 1)
    entry = strings()[section][name]
    return entry.get(language, entry[DEFAULT_LANGUAGE]).strip().format(**values)


def pick(texts: dict[str, str] | None, language: str) -> str:
    """A scenario's or lever's own text in ``language`` (bokmål, else English, else '')."""
    texts = texts or {}
    return texts.get(language) or texts.get(DEFAULT_LANGUAGE) or texts.get("en") or ""


def format_number(value: float, language: str = DEFAULT_LANGUAGE, decimals: int = 0) -> str:
    """A number for people: thousands grouped, ``decimals`` places; bokmål uses 1 234,5.

    NaN (a value that could not be measured) reads as a dash.
    """
    if value != value:  # NaN
        return "–"
    written = f"{value:,.{decimals}f}"
    if language == "nb":
        written = written.replace(",", "\u00a0").replace(".", ",").replace("-", "\u2212")
    return written
