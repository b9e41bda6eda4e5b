"""Kubernetes quantities (`500m`, `2`, `6Gi`, `1e3`) as exact fractions, so they compare as
quantities: `500m` < `1`, `6Gi` > `6G`."""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Any

_SUFFIXES: dict[str, Fraction] = {
    "n": Fraction(1, 10**9), "u": Fraction(1, 10**6), "m": Fraction(1, 1000), "": Fraction(1),
    "k": Fraction(10**3), "M": Fraction(10**6), "G": Fraction(10**9), "T": Fraction(10**12),
    "P": Fraction(10**15), "E": Fraction(10**18),
    "Ki": Fraction(2**10), "Mi": Fraction(2**20), "Gi": Fraction(2**30), "Ti": Fraction(2**40),
    "Pi": Fraction(2**50), "Ei": Fraction(2**60),
}

_QUANTITY = re.compile(
    r"^(?P<num>[+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:(?P<exp>[eE][+-]?\d+)|(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei"
    r"|[numkMGTPE]))?$"
)


# A decimal exponent past this is clamped: `1e999999999` in an untrusted repo must not make us
# compute a billion-digit number (10**exp is exact arithmetic). Every bound a config can
# state is far inside 10**±64, so comparisons with a clamped value stay right.
MAX_EXPONENT = 64


def parse_quantity(value: Any) -> Fraction | None:
    """The quantity's value, or None when `value` is not a quantity.

    A decimal exponent beyond +-MAX_EXPONENT counts as that exponent: the value is then
    larger (or smaller) than any bound, which is all a comparison needs."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        # inf and nan are no quantities (Fraction refuses them)
        return Fraction(str(value)) if value == value and abs(value) != float("inf") else None
    if not isinstance(value, str):
        return None
    match = _QUANTITY.match(value.strip())
    if not match:
        return None
    number = Fraction(match.group("num"))
    if match.group("exp"):
        exponent = max(-MAX_EXPONENT, min(MAX_EXPONENT, int(match.group("exp")[1:])))
        return number * Fraction(10) ** exponent
    return number * _SUFFIXES[match.group("suffix") or ""]


def is_quantity(value: Any) -> bool:
    return parse_quantity(value) is not None
