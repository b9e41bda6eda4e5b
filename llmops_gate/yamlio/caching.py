"""The per-run caches (identical files linted once, identical documents parsed and validated
once) are on unless `LLMOPS_GATE_NO_CACHE` is set: the parity tests run both ways and
compare every finding."""

from __future__ import annotations

import os


def enabled() -> bool:
    return not os.environ.get("LLMOPS_GATE_NO_CACHE")
