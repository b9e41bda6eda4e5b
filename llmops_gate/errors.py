"""The one exception type for expected failures.

A `GateError` means the run could not do its job (bad usage, bad config, a missing tool, an
unreadable repo): the CLI prints its message on one line and exits 2. Findings about the
user's manifests are never raised; they are returned as `Finding` values.
"""

from __future__ import annotations


class GateError(Exception):
    """An expected failure: usage, config or environment. Exit code 2."""

    exit_code = 2
