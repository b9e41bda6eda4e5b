"""What a policy rule is: data (id, description, why, fix, severity, options) and a pure check.

A rule's `check(resource, ctx)` yields `Violation`s: a message and the field path it is about.
It never prints, never reads files, never decides its own final severity: the policy engine
stamps severity from config, finds the source line, and applies waivers.

A plugin (entry-point group `llmops_gate.rules`) provides a `Rule` or a list of them:

    from llmops_gate.validators.policy.base import Rule, Violation

    def check(resource, ctx):
        if resource.kind == "InferenceService" and "team" not in resource.doc["metadata"].get(
                "labels", {}):
            yield Violation("InferenceService has no `team` label", path=("metadata",))

    RULE = Rule(id="team-label", description="...", why="...", fix="...", check=check)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

# The one nested lookup and field path of the package (rules and plugins import them here).
from llmops_gate.kinds import Path as Path
from llmops_gate.kinds import PathPart as PathPart
from llmops_gate.kinds import get as get
from llmops_gate.model import Resource, RuleDoc, RuleOption, Severity, Unit
from llmops_gate.repo import envs


@dataclass(frozen=True)
class Violation:
    """One problem a rule found in one resource.

    `path` is the field it is about (the engine maps it to a source line). `file`/`line` are
    for problems written outside the resource's own document (a kustomization's patch).
    Messages never carry secret values.
    """

    message: str
    path: Path = ()
    container: str | None = None
    file: str | None = None
    line: int | None = None
    severity: Severity | None = None  # only to lower a sub-case (a deprecated, not unknown, flag)
    text_line: int | None = None  # 0-based line inside the block-scalar text at `path` in `file`


# A policy rule's options are the shared rule vocabulary's (llmops_gate.model.RuleOption).
Option = RuleOption


@dataclass(frozen=True)
class Bound:
    """Inclusive bounds; None means unbounded on that side."""

    min: Fraction | None = None
    max: Fraction | None = None
    min_text: str | None = None
    max_text: str | None = None


@dataclass(frozen=True)
class RuleSetting:
    severity: Severity | None = None
    off: bool = False
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EnvPolicy:
    """The policy in force for one environment: built-in defaults, then the config's top-level
    `policy`, then the environment's own `policy`."""

    requests: Mapping[str, Bound] = field(default_factory=dict)
    limits: Mapping[str, Bound] = field(default_factory=dict)
    replicas_min: int | None = None
    replicas_max: int | None = None
    allowed_registries: tuple[str, ...] = ()
    require_digest: bool = False
    require_model_digest: bool = False
    accelerators: tuple[str, ...] = ("nvidia.com/gpu", "amd.com/gpu", "habana.ai/gaudi")
    allow_auto_sync: bool = True
    require_pinned_revision: bool = False
    allow_cluster_scoped: tuple[str, ...] = ()
    waivers_allowed: bool = True
    refuse_waivers: frozenset[str] = frozenset()
    rules: Mapping[str, RuleSetting] = field(default_factory=dict)

    def refuses_waiver(self, rule: str) -> bool:
        return (not self.waivers_allowed or rule in self.refuse_waivers
                or "*" in self.refuse_waivers)


@dataclass(frozen=True)
class EnvInfo:
    """An environment as the rules see it: the repo's environment (where it renders, where it
    lands: `llmops_gate.repo.envs`, the one place that works them out) and its policy."""

    env: envs.EnvInfo
    policy: EnvPolicy

    @property
    def name(self) -> str:
        return self.env.name

    @property
    def overlays(self) -> tuple[str, ...]:
        return self.env.overlays

    @property
    def namespace(self) -> str | None:
        return self.env.namespace

    @property
    def application(self) -> str | None:
        return self.env.application


@dataclass(frozen=True)
class RuleContext:
    """What a rule may look at besides the resource itself."""

    unit: Unit
    environment: str | None
    policy: EnvPolicy
    resources: Sequence[Resource]
    environments: Sequence[EnvInfo]
    kustomizations: Mapping[str, Mapping[str, Any]]  # kustomization file -> its data
    options: Mapping[str, Any] = field(default_factory=dict)
    # The text of a repo file a kustomization names (a patch file); supplied by the engine so
    # rules stay free of I/O.
    # A source file's text and first document, from the run's snapshot (None when unread).
    read_text: Callable[[str], str | None] | None = None
    read_data: Callable[[str], Any] | None = None

    def env(self, name: str | None) -> EnvInfo | None:
        for env in self.environments:
            if env.name == name:
                return env
        return None

    @property
    def namespace(self) -> str | None:
        env = self.env(self.environment)
        return env.namespace if env else None


Check = Callable[[Resource, RuleContext], Iterable[Violation]]


@dataclass(frozen=True)
class Rule:
    """A policy rule, declared as data. `kinds` (when given) limits the resources it sees."""

    id: str
    description: str
    why: str
    fix: str
    check: Check | None = None
    severity: Severity = Severity.ERROR
    options: tuple[Option, ...] = ()
    kinds: frozenset[str] | None = None
    equivalents: Mapping[str, str] = field(default_factory=dict)
    source: str = "built-in"
    doc: str = ""  # the family's documentation, with passing and failing examples

    def defaults(self) -> dict[str, Any]:
        return {o.name: o.default for o in self.options}

    @property
    def meta(self) -> RuleDoc:
        """This rule in the vocabulary every validator's rules share."""
        return RuleDoc(id=self.id, severity=self.severity, summary=self.description,
                       why=self.why, fix=self.fix, options=self.options, source=self.source,
                       validator="policy")

    def to_json(self) -> dict[str, Any]:
        """The shared vocabulary's fields (see RuleDoc.to_json), then the policy-only ones."""
        out = self.meta.to_json()
        del out["validator"], out["links"]
        return {**out, "kinds": sorted(self.kinds) if self.kinds else None,
                "equivalents": dict(self.equivalents), "doc": self.doc}


def names(values: Sequence[str]) -> str:
    return ", ".join(values) if values else "none"
