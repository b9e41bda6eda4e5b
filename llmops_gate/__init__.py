"""llmops-gate: validate and promote LLM model deployments kept in a GitOps repository."""

from __future__ import annotations

__version__ = "0.1.0"
