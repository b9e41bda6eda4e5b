"""Running the policy rules over a Context: environments, severity, source lines, waivers."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from llmops_gate.model import Finding, Resource, Severity, Unit
from llmops_gate.repo import envs
from llmops_gate.validators.context import Context
from llmops_gate.validators.policy import argocd, registry
from llmops_gate.validators.policy.base import EnvInfo, Path, Rule, RuleContext, Violation, get
from llmops_gate.validators.policy.locate import Locator
from llmops_gate.validators.policy.settings import check_known_rules, env_policy
from llmops_gate.yamlio.sourcemap import field_path

VALIDATOR = "policy"
WAIVE = "llmops-gate.io/ignore"
WAIVE_REASON = "llmops-gate.io/ignore-reason"
_WAIVE_PATH: Path = ("metadata", "annotations", WAIVE)


@dataclass(frozen=True)
class Waiver:
    rules: tuple[str, ...]
    reason: str | None


def waiver_of(res: Resource) -> Waiver | None:
    ann = get(res.doc, "metadata", "annotations")
    if not isinstance(ann, Mapping) or WAIVE not in ann:
        return None
    rules = tuple(r.strip() for r in str(ann.get(WAIVE) or "").split(",") if r.strip())
    reason = str(ann.get(WAIVE_REASON) or "").strip() or None
    return Waiver(rules, reason)


def environments(ctx: Context) -> list[EnvInfo]:
    """The repo's environments (`repo.envs.resolve`, given by the engine for the whole repo;
    from the rendered units when a caller gives none), each with the policy in force."""
    chain = ctx.environments
    if chain is None:
        chain = envs.resolve(ctx.config, ctx.scan, (r.unit for r in ctx.results))
    return [EnvInfo(env, env_policy(ctx.config, env.name, first=i == 0))
            for i, env in enumerate(chain.envs)]


def _finding(rule: Rule, v: Violation, res: Resource, unit: Unit, env: str | None,
             severity: Severity, locator: Locator) -> Finding:
    file: str | None
    line: int | None
    if v.file is not None:
        file, line = v.file, v.line
        if line is None:
            line = locator.in_file(v.file, v.path, v.text_line)
    else:
        file, line = locator.locate(res, v.path)
    return Finding(validator=VALIDATOR, rule=rule.id, severity=severity, message=v.message,
                   overlay=unit.path, environment=env, file=file, line=line, resource=res.ref,
                   path=field_path(v.path), container=v.container, hint=rule.fix or None)


def _waiver_findings(res: Resource, waiver: Waiver, known: Mapping[str, Rule], unit: Unit,
                     env: str | None, locator: Locator) -> Iterator[Finding]:
    meta = registry.META
    if waiver.reason is None:
        rule = meta["waiver-reason-missing"]
        v = Violation(f"waiver of {', '.join(waiver.rules) or 'no rule'} has no "
                      f"{WAIVE_REASON} annotation; the waiver is not applied", path=_WAIVE_PATH)
        yield _finding(rule, v, res, unit, env, rule.severity, locator)
    for name in waiver.rules:
        if name not in known:
            rule = meta["waiver-unknown-rule"]
            v = Violation(f"waiver names unknown rule '{name}'", path=_WAIVE_PATH)
            yield _finding(rule, v, res, unit, env, rule.severity, locator)


def _apply_waiver(f: Finding, waiver: Waiver | None, refused: bool, env: str | None) -> Finding:
    if waiver is None or f.rule not in waiver.rules or waiver.reason is None:
        return f
    if refused:
        return replace(f, message=f"{f.message} (waiver refused: the config accepts no waiver "
                                  f"of {f.rule} in {env or 'this environment'})")
    return replace(f, waived=True, waiver_reason=waiver.reason)


def run_rules(ctx: Context, rules: Mapping[str, Rule]) -> Iterator[Finding]:
    envs = environments(ctx)
    by_name = {e.name: e for e in envs}
    kdata: dict[str, Mapping[str, Any]] = {k.file: k.data for k in ctx.scan.kustomizations.values()}
    locator = Locator(ctx.sources, kdata)
    default_policy = env_policy(ctx.config, None)
    known = {**rules, **registry.META}
    for result in ctx.results:
        unit = result.unit
        for res in result.resources:
            env = unit.environment
            if res.kind == argocd.APPLICATION:
                env = argocd.application_env(res, unit, envs) or env
            info = by_name.get(env) if env else None
            policy = info.policy if info else default_policy
            base = RuleContext(unit=unit, environment=env, policy=policy,
                               resources=result.resources, environments=envs,
                               kustomizations=kdata, read_text=locator.read_text,
                               read_data=locator.read_data)
            waiver = waiver_of(res)
            if waiver is not None:
                yield from _waiver_findings(res, waiver, known, unit, env, locator)
            for rule in rules.values():
                if rule.check is None or (rule.kinds is not None and res.kind not in rule.kinds):
                    continue
                setting = policy.rules.get(rule.id)
                if setting is not None and setting.off:
                    continue
                options = {**rule.defaults(), **(setting.options if setting else {})}
                rctx = replace(base, options=options)
                try:
                    violations = list(rule.check(res, rctx))
                except Exception as exc:  # a plugin's bug must not hide every other finding
                    if rule.source == "built-in":
                        raise
                    meta = registry.META["rule-failed"]
                    v = Violation(f"rule {rule.id} ({rule.source}) failed: "
                                  f"{type(exc).__name__}: {exc}")
                    yield _finding(meta, v, res, unit, env, meta.severity, locator)
                    continue
                for v in violations:
                    severity = (setting.severity if setting and setting.severity
                                else v.severity or rule.severity)
                    f = _finding(rule, v, res, unit, env, severity, locator)
                    yield _apply_waiver(f, waiver, policy.refuses_waiver(rule.id), env)


def check(ctx: Context) -> Iterator[Finding]:
    rules, problems = registry.all_rules(ctx.config)
    check_known_rules(ctx.config, [*rules, *registry.META])
    meta = registry.META["rule-failed"]
    for message in problems:
        yield Finding(validator=VALIDATOR, rule=meta.id, severity=meta.severity,
                      message=message, hint=meta.fix)
    yield from run_rules(ctx, rules)


def rule_list(rules: Sequence[Rule]) -> list[dict[str, Any]]:
    return [r.to_json() for r in rules]
