"""Kubernetes quantities compare as quantities."""

from __future__ import annotations

from fractions import Fraction

import pytest

from llmops_gate.validators.policy.quantity import parse_quantity


@pytest.mark.parametrize(("small", "large"), [
    ("500m", "1"), ("6G", "6Gi"), ("1Mi", "1.1M"), ("999Ki", "1Mi"), (2, "2.5"), ("1e3", "1Ki"),
])
def test_ordering(small: object, large: object) -> None:
    a, b = parse_quantity(small), parse_quantity(large)
    assert a is not None and b is not None and a < b


@pytest.mark.parametrize(("text", "value"), [
    ("500m", Fraction(1, 2)), ("2", Fraction(2)), ("6Gi", Fraction(6 * 2**30)),
    ("1.5", Fraction(3, 2)), ("1e3", Fraction(1000)), (4, Fraction(4)),
])
def test_values(text: object, value: Fraction) -> None:
    assert parse_quantity(text) == value


@pytest.mark.parametrize("text", ["two", "6GB", "", "1.2.3", True, None, "Gi"])
def test_not_quantities(text: object) -> None:
    assert parse_quantity(text) is None


_MULT = {"m": Fraction(1, 1000), "": Fraction(1), "k": Fraction(1000), "Ki": Fraction(1024),
         "M": Fraction(10**6), "Mi": Fraction(2**20), "G": Fraction(10**9), "Gi": Fraction(2**30)}


def test_suffixes_scale_exactly() -> None:
    from hypothesis import given
    from hypothesis import strategies as st

    @given(st.integers(min_value=0, max_value=10**6), st.sampled_from(sorted(_MULT)))
    def prop(n: int, suffix: str) -> None:
        assert parse_quantity(f"{n}{suffix}") == n * _MULT[suffix]

    prop()


def test_huge_exponents_are_cheap_and_still_compare() -> None:
    # An untrusted repo can write cpu: 1e999999999; computing 10**999999999 exactly would hang
    # the run, so the exponent is clamped and the value stays beyond every bound.
    huge, tiny = parse_quantity("1e999999999"), parse_quantity("1e-999999999")
    assert huge is not None and huge > parse_quantity("1Ei")
    assert tiny is not None and 0 < tiny < parse_quantity("1n")
    assert parse_quantity(float("inf")) is None and parse_quantity(float("nan")) is None
