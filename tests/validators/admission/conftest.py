"""The admission rules' pass and fail manifests (`cases/<rule>/pass.yaml`, `fail.yaml`).

A fail manifest marks every line the rule must report with a trailing `# <- rule[, rule]`
comment; a pass manifest is one the API server (and the CRD's webhook) accepts, so it gives no
finding at all, schema included. `@BIG@` and `@SMALL@` stand for long strings (a 256 KiB
annotation would not be readable in the fixture).
"""

from __future__ import annotations

import re
from pathlib import Path

CASES = Path(__file__).parent / "cases"
KINDS = ("pass", "fail")
_MARK = re.compile(r"#\s*<-\s*([a-z0-9-]+(?:\s*,\s*[a-z0-9-]+)*)\s*$")


def case_rules() -> list[str]:
    return sorted(p.name for p in CASES.iterdir() if p.is_dir())


def case_text(rule: str, kind: str) -> str:
    text = (CASES / rule / f"{kind}.yaml").read_text(encoding="utf-8")
    return text.replace("@BIG@", "x" * 262144).replace("@SMALL@", "x" * 1024)


def expected(text: str) -> list[tuple[str, int]]:
    """(rule, line) of every marked line, once per rule named on it."""
    out: list[tuple[str, int]] = []
    for n, line in enumerate(text.splitlines(), start=1):
        m = _MARK.search(line)
        if m:
            out += [(r.strip(), n) for r in m.group(1).split(",")]
    return sorted(out)
