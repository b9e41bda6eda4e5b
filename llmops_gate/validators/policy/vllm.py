"""vLLM arguments: flags vLLM does not know, or has deprecated or removed, for the configured
vLLM version; and JSON6902 patches that edit `args` by list position.

The flag table covers the OpenAI-compatible server and engine arguments of vLLM 0.6 to 0.11;
teams on other versions add flags with the `extra-flags` option. Set the version with
`rules: {vllm-args: {version: "0.9.2"}}`; without it, deprecated flags are reported with the
version that deprecated them.

Passing: `--max-model-len=32768`. Failing: `--max-model-length=32768` (unknown, silently a
start-up error), `--use-v2-block-manager` (deprecated). For `vllm-args-by-position`: a patch op
`path: /spec/containers/0/args/3` in a kustomization.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import PurePosixPath
from typing import Any

from llmops_gate.kinds import ISVC
from llmops_gate.model import Resource, Severity
from llmops_gate.validators.policy.base import Option, Rule, RuleContext, Violation, get
from llmops_gate.validators.policy.pods import POD_KINDS, containers, is_vllm, runtime_of

_FLAG_TEXT = """
host port uvicorn-log-level allow-credentials allowed-origins allowed-methods allowed-headers
api-key lora-modules prompt-adapters chat-template chat-template-content-format response-role
ssl-keyfile ssl-certfile ssl-ca-certs ssl-cert-reqs enable-ssl-refresh root-path middleware
return-tokens-as-token-ids disable-frontend-multiprocessing enable-request-id-headers
enable-auto-tool-choice tool-call-parser tool-parser-plugin tool-server log-config-file
max-log-len disable-fastapi-docs enable-prompt-tokens-details enable-server-load-tracking
enable-force-include-usage enable-tokenizer-info-endpoint disable-uvicorn-access-log
h11-max-incomplete-event-size h11-max-header-count log-error-stack served-model-name headless
api-server-count config disable-log-requests enable-log-requests enable-log-outputs
disable-log-stats expand-tools-even-if-tool-choice-none reasoning-parser model task runner
convert tokenizer hf-config-path skip-tokenizer-init revision code-revision tokenizer-revision
tokenizer-mode trust-remote-code allowed-local-media-path allowed-media-domains download-dir
load-format config-format dtype kv-cache-dtype max-model-len guided-decoding-backend
guided-decoding-disable-fallback guided-decoding-disable-any-whitespace
guided-decoding-disable-additional-properties structured-outputs-config
logits-processor-pattern model-impl distributed-executor-backend pipeline-parallel-size
tensor-parallel-size data-parallel-size data-parallel-size-local data-parallel-address
data-parallel-rpc-port data-parallel-backend data-parallel-hybrid-lb data-parallel-start-rank
enable-expert-parallel enable-eplb eplb-config num-redundant-experts
max-parallel-loading-workers ray-workers-use-nsight disable-custom-all-reduce block-size
enable-prefix-caching prefix-caching-hash-algo disable-sliding-window num-lookahead-slots seed
swap-space cpu-offload-gb gpu-memory-utilization num-gpu-blocks-override max-num-batched-tokens
max-num-partial-prefills max-long-partial-prefills long-prefill-token-threshold max-num-seqs
max-logprobs logprobs-mode quantization rope-scaling rope-theta hf-token hf-overrides
enforce-eager max-seq-len-to-capture limit-mm-per-prompt mm-processor-kwargs
disable-mm-preprocessor-cache mm-processor-cache-gb mm-encoder-tp-mode media-io-kwargs
interleave-mm-strings skip-mm-profiling enable-lora enable-lora-bias max-loras max-lora-rank
lora-extra-vocab-size lora-dtype long-lora-scaling-factors max-cpu-loras fully-sharded-loras
enable-prompt-adapter max-prompt-adapters max-prompt-adapter-token device
scheduler-delay-factor enable-chunked-prefill speculative-config model-loader-extra-config
ignore-patterns preemption-mode qlora-adapter-name-or-path show-hidden-metrics-for-version
otlp-traces-endpoint collect-detailed-traces disable-async-output-proc scheduling-policy
scheduler-cls override-neuron-config override-pooler-config pooler-config compilation-config
kv-transfer-config kv-events-config worker-cls worker-extension-cls generation-config
override-generation-config enable-sleep-mode calculate-kv-scales additional-config
disable-cascade-attn disable-chunked-mm-input async-scheduling kv-sharing-fast-prefill
cuda-graph-sizes disable-hybrid-kv-cache-manager safetensors-load-strategy pt-load-map-location
io-processor-plugin logits-processors enable-prompt-embeds distributed-timeout-seconds
enable-multimodal-encoder-data-parallel
"""
KNOWN_FLAGS = frozenset(_FLAG_TEXT.split())

SHORT_FLAGS = {"-tp": "tensor-parallel-size", "-pp": "pipeline-parallel-size",
               "-dp": "data-parallel-size", "-q": "quantization", "-O": "compilation-config",
               "-m": "", "-c": ""}

# flag -> (deprecated in, removed in or None, what to use instead)
DEPRECATED: dict[str, tuple[str, str | None, str]] = {
    "engine-use-ray": ("0.5.0", "0.6.0", "remove it (the engine runs in-process)"),
    "worker-use-ray": ("0.5.0", None, "--distributed-executor-backend=ray"),
    "use-v2-block-manager": ("0.6.2", None, "remove it (the v2 block manager is the default)"),
    "speculative-model": ("0.8.0", None, "--speculative-config"),
    "num-speculative-tokens": ("0.8.0", None, "--speculative-config"),
    "speculative-draft-tensor-parallel-size": ("0.8.0", None, "--speculative-config"),
    "speculative-max-model-len": ("0.8.0", None, "--speculative-config"),
    "speculative-disable-by-batch-size": ("0.8.0", None, "--speculative-config"),
    "ngram-prompt-lookup-max": ("0.8.0", None, "--speculative-config"),
    "ngram-prompt-lookup-min": ("0.8.0", None, "--speculative-config"),
    "tokenizer-pool-size": ("0.8.0", None, "remove it"),
    "tokenizer-pool-type": ("0.8.0", None, "remove it"),
    "tokenizer-pool-extra-config": ("0.8.0", None, "remove it"),
    "num-scheduler-steps": ("0.9.0", None, "remove it (multi-step scheduling is gone in V1)"),
    "multi-step-stream-outputs": ("0.9.0", None, "remove it"),
    "enable-reasoning": ("0.9.0", "0.10.0", "--reasoning-parser alone"),
    "disable-log-requests": ("0.10.2", None, "nothing (requests are not logged by default; "
                                             "--enable-log-requests turns it on)"),
}


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text)[:3])


def flags(args: Sequence[str]) -> Iterator[tuple[int, str]]:
    """(index, normalised flag name) of every option-looking argument."""
    for i, arg in enumerate(args):
        if arg.startswith("--") and len(arg) > 2:
            name = arg[2:].split("=", 1)[0].replace("_", "-")
            yield i, name
        elif SHORT_FLAGS.get(arg):
            yield i, SHORT_FLAGS[arg]


def _check_flags(args: Sequence[str], base: tuple[Any, ...], container: str,
                 ctx: RuleContext) -> Iterator[Violation]:
    extra = {str(f).lstrip("-") for f in ctx.options.get("extra-flags", [])}
    version = str(ctx.options.get("version") or "")
    have = _version(version) if version else None
    for i, name in flags(args):
        plain = name[3:] if name.startswith("no-") and name[3:] in KNOWN_FLAGS else name
        if plain in extra:
            continue
        if plain in DEPRECATED:
            since, removed, instead = DEPRECATED[plain]
            if have is not None and have < _version(since):
                continue
            if removed and have is not None and have >= _version(removed):
                msg = f"--{plain} was removed in vLLM {removed}: vLLM {version} will not start"
            else:
                msg = f"--{plain} is deprecated since vLLM {since}"
            yield Violation(f"{msg}; use {instead}", path=(*base, i), container=container)
        elif plain not in KNOWN_FLAGS:
            for_v = f" {version}" if version else ""
            yield Violation(f"--{name} is not a vLLM{for_v} argument (a typo fails at start-up)",
                            path=(*base, i), container=container)


def check_args(res: Resource, ctx: RuleContext) -> Iterator[Violation]:
    if res.kind == ISVC:
        runtime = runtime_of(res, ctx.resources)
        fmt = str(get(res.doc, "spec", "predictor", "model", "modelFormat", "name") or "")
        vllm_runtime = any(is_vllm(c.spec) for c in containers(runtime)) if runtime else False
        if not (vllm_runtime or fmt.lower() == "vllm"):
            return
        model = get(res.doc, "spec", "predictor", "model", "args")
        if isinstance(model, list):
            yield from _check_flags([str(a) for a in model],
                                    ("spec", "predictor", "model", "args"), "kserve-container",
                                    ctx)
        return
    for c in containers(res):
        if c.model or not is_vllm(c.spec):
            continue
        args = c.spec.get("args")
        if isinstance(args, list):
            yield from _check_flags([str(a) for a in args], (*c.path, "args"), c.name, ctx)


_INDEXED = re.compile(r"/(?:args|command|env)/\d+$")


def _ops(data: Any) -> list[Mapping[str, Any]]:
    return [op for op in data if isinstance(op, Mapping)] if isinstance(data, list) else []


def _line_of(text: str, ptr: str) -> int:
    """0-based line of the op with this path in a patch text (0 when not found)."""
    for n, line in enumerate(text.splitlines()):
        if ptr in line and "path" in line:
            return n
    return 0


def check_positional(res: Resource, ctx: RuleContext) -> Iterator[Violation]:
    if res.kind not in POD_KINDS:
        return
    import yaml

    from llmops_gate import yamlio

    for kfile in res.transformed_by:
        data = ctx.kustomizations.get(kfile)
        if not isinstance(data, Mapping):
            continue
        folder = PurePosixPath(kfile).parent
        for key in ("patches", "patchesJson6902"):
            items = data.get(key)
            for i, item in enumerate(items if isinstance(items, list) else []):
                if not isinstance(item, Mapping):
                    continue
                target = item.get("target")
                if not isinstance(target, Mapping) or target.get("kind") not in (None, res.kind):
                    continue
                if target.get("name") and str(target["name"]) not in res.name:
                    continue
                inline = item.get("patch")
                file: str | None = None
                text: str | None = None
                patch: Any = None
                try:
                    if isinstance(inline, str):
                        text = inline
                        patch = yamlio.load(inline)
                    elif isinstance(item.get("path"), str):
                        import os

                        file = os.path.normpath(folder / item["path"]).replace(os.sep, "/")
                        text = ctx.read_text(file) if ctx.read_text else None
                        patch = ctx.read_data(file) if ctx.read_data and text else None
                except yaml.YAMLError:
                    continue
                if not text or not patch:
                    continue
                ops = _ops(patch)
                for op in ops:
                    ptr = str(op.get("path") or "")
                    if not _INDEXED.search(ptr):
                        continue
                    n = _line_of(text, ptr)
                    msg = (f"patch op '{op.get('op')}' edits {ptr} by list position; it "
                           f"silently changes another argument when the base reorders them")
                    if file is not None:
                        yield Violation(msg, file=file, line=n + 1)
                    else:
                        yield Violation(msg, file=kfile, path=(key, i, "patch"),
                                        line=None, text_line=n)


RULES = (
    Rule(
        id="vllm-args",
        description="vLLM containers (and InferenceServices served by vLLM) pass only flags the "
                    "configured vLLM version knows and has not deprecated.",
        why="vLLM exits at start-up on an unknown flag, and removed flags break the next "
            "runtime upgrade: both show only on the cluster.",
        fix="fix the flag's spelling or replace the deprecated flag (the message says with "
            "what); set the rule's `version` option to your vLLM version",
        check=check_args,
        severity=Severity.WARNING,
        kinds=POD_KINDS,
        options=(Option("version", None, "The vLLM version the runtime image ships (e.g. "
                                         "\"0.9.2\")."),
                 Option("extra-flags", [], "Flags to accept in addition to the built-in "
                                           "table.")),
    ),
    Rule(
        id="vllm-args-by-position",
        description="No JSON6902 patch edits `args` (or `command`, `env`) by list position "
                    "(`/spec/containers/0/args/4`).",
        why="Positions shift when the base adds or reorders an argument; the patch then "
            "silently overwrites a different flag.",
        fix="patch the whole args list, or move the flag into the overlay with a "
            "strategic-merge patch of the container",
        check=check_positional,
        severity=Severity.WARNING,
        kinds=POD_KINDS,
    ),
)
