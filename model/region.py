"""Which municipalities the model covers: the region is configuration, not code.

``"osloregionen"`` (the default) is every row of ``osloregionen_membership.csv`` whose
``confidence`` is not ``uncertain``: the 64 members found in public sources plus Tønsberg,
whose membership is inferred from the 2025 membership fee (see data/README.md).
``"all"`` is every municipality of the bundle (the 104 of the six counties). A list of
municipality numbers selects exactly those.
"""

from __future__ import annotations

from collections.abc import Sequence

from model.bundle import Bundle

REGION_NAMES = ("osloregionen", "all")


class RegionError(ValueError):
    """The region asked for is not one the bundle can provide."""


def region_codes(bundle: Bundle, region: str | Sequence[str] = "osloregionen") -> list[str]:
    """Return the sorted municipality numbers of ``region``."""
    known = set(bundle["municipalities.csv"]["kommunenummer"])
    if isinstance(region, str):
        if region == "all":
            return sorted(known)
        if region == "osloregionen":
            membership = bundle["osloregionen_membership.csv"]
            members = membership.loc[membership["confidence"] != "uncertain", "kommunenummer"]
            return sorted(set(members))
        raise RegionError(
            f"region '{region}' is unknown; allowed: {', '.join(REGION_NAMES)} "
            "or a list of 4-digit municipality numbers"
        )
    codes = sorted(set(region))
    unknown = [code for code in codes if code not in known]
    if unknown or not codes:
        raise RegionError(
            f"region lists unknown municipality number(s) {unknown}; allowed: numbers in "
            f"{bundle.path / 'municipalities.csv'}"
        )
    return codes
