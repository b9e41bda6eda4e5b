"""The performance runner: llmops-gate against the floors it cannot beat, as ratios.

    python benchmarks/run.py            # N = 1, 34, 100 models; a few minutes on 2 cores
    python benchmarks/run.py --quick    # N = 1, 34, one repetition, 5,000-document stream
    python benchmarks/run.py --schema-only --models 100 --repeat 1   # just the schema rows

Rows (each the best of --repeat runs, wall clock):
- full `validate` of N models (3N overlays) against the floor: every overlay built by bare
  `kubectl kustomize` (or `kustomize build`), one process each, as many in parallel as there
  are CPUs; also for the 34-model repo of the `small` shape (benchmarks/generate.py);
- `schema` on two 20,000-document streams of rendered GitOps documents: the renders repeated
  (against kubernetes-validate and kubeconform), and every copy renamed so that no document
  repeats (against kubeconform); kubeconform (`-n CPUS -strict`; --kubeconform, PATH or the
  .cache/tools one scripts/test builds) gets the same schemas through -schema-location: the
  bundled set exported in its layout and the Kubernetes ones from kubernetes-validate; CPU
  seconds and peak RSS beside the wall times; "n/a" when this llmops-gate has no `schema`;
- `validate --changed-since HEAD` after a one-overlay change against the full run (N=34);
- `llmops-gate --version` against `python -c "import click"`;
- peak memory of the full run with the most models: the whole process tree at its peak
  (proportional set size, sampled from /proc every 20 ms), with llmops-gate's own and the
  largest process's max RSS.

Not part of the test suite: it prints numbers, it does not pass or fail.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from generate import ENVS, generate, model_names  # noqa: E402

PY = sys.executable
CPUS = os.cpu_count() or 1


@dataclass
class Run:
    seconds: float
    max_rss_kb: int
    code: int
    cpu: float = 0.0  # user + system seconds of the process and the children it waited for


GATE_ROOT = ROOT  # where the llmops_gate package measured lives (--gate-root)


def env() -> dict[str, str]:
    out = dict(os.environ)
    out["PYTHONPATH"] = str(GATE_ROOT) + os.pathsep + out.get("PYTHONPATH", "")
    out["NO_COLOR"] = "1"
    return out


def run(argv: Sequence[str], stdin: Path | None = None, cwd: Path | None = None) -> Run:
    """Wall time, max RSS (KB, largest process of the tree) and exit code of one command."""
    with tempfile.TemporaryFile() as err:
        fin = open(stdin, "rb") if stdin else subprocess.DEVNULL  # noqa: SIM115
        try:
            start = time.perf_counter()
            # Not from this checkout: `python -m` puts the working folder first on sys.path,
            # and the package measured is the one PYTHONPATH names (--gate-root).
            proc = subprocess.Popen(list(argv), stdout=subprocess.DEVNULL, stderr=err,
                                    stdin=fin, env=env(), cwd=cwd or tempfile.gettempdir())
            _, status, usage = os.wait4(proc.pid, 0)
            seconds = time.perf_counter() - start
            proc.returncode = os.waitstatus_to_exitcode(status)
        finally:
            if stdin:
                fin.close()  # type: ignore[union-attr]
        if proc.returncode not in (0, 1):
            err.seek(0)
            sys.stderr.write(f"  ! {' '.join(map(str, argv))[:120]}: exit {proc.returncode}: "
                             f"{err.read().decode('utf-8', 'replace')[-400:]}\n")
        return Run(seconds, int(usage.ru_maxrss), proc.returncode,
                   usage.ru_utime + usage.ru_stime)


def _tree_rss_kb(root: int, page_kb: int) -> int:
    """Memory (PSS, KB) of `root` and all its descendants right now (a /proc scan)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path("/proc", entry, "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry)] = int(stat[1])
    tree, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        for child, parent in parents.items():
            if parent == pid and child not in tree:
                tree.add(child)
                frontier.append(child)
    total = 0
    for pid in tree:
        total += _pss_kb(pid, page_kb)
    return total


def _pss_kb(pid: int, page_kb: int) -> int:
    """Proportional set size: shared pages (two kubectl processes share their program text)
    count once across the tree, not once per process as RSS would count them."""
    try:
        for line in Path("/proc", str(pid), "smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, IndexError, ValueError):
        pass
    try:
        return int(Path("/proc", str(pid), "statm").read_text().split()[1]) * page_kb
    except (OSError, IndexError, ValueError):
        return 0


def tree_peak(argv: Sequence[str]) -> tuple[int, int]:
    """(peak KB of the whole process tree, sampled every 20 ms; exit code) of one command."""
    page_kb = os.sysconf("SC_PAGE_SIZE") // 1024
    proc = subprocess.Popen(list(argv), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL, env=env(), cwd=tempfile.gettempdir())
    peak = 0
    try:
        while proc.poll() is None:
            peak = max(peak, _tree_rss_kb(proc.pid, page_kb))
            time.sleep(0.02)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    return peak, proc.returncode


def best(repeat: int, fn: Callable[[], Run]) -> Run:
    runs = [fn() for _ in range(max(1, repeat))]
    return min(runs, key=lambda r: r.seconds)


def kustomize_argv() -> list[str]:
    found = shutil.which("kustomize")
    if found:
        return [found, "build"]
    found = shutil.which("kubectl")
    if found:
        return [found, "kustomize"]
    sys.exit("benchmarks need kustomize or kubectl on PATH")


def overlays(repo: Path) -> list[Path]:
    return sorted(p.parent for p in repo.glob("models/*/overlays/*/kustomization.yaml"))


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def floor(repo: Path) -> tuple[Run, list[str]]:
    """Every overlay built by bare Kustomize, CPUS at a time: (time and CPU, outputs)."""
    argv = kustomize_argv()

    def build(folder: Path) -> str:
        proc = subprocess.run([*argv, str(folder)], capture_output=True, text=True,
                              check=True, timeout=300)
        return proc.stdout

    cpu = children_cpu()
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=CPUS) as pool:
        outputs = list(pool.map(build, overlays(repo)))
    return Run(time.perf_counter() - start, 0, 0, children_cpu() - cpu), outputs


def gate(*args: str | Path) -> list[str]:
    return [PY, "-m", "llmops_gate", *map(str, args)]


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "b@x",
                        "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "b@x"})


def make_repo(root: Path, models: int, shape: str = "example") -> Path:
    repo = generate(root / f"repo-{models}-{shape}", models, shape=shape)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "generated")
    return repo


def has_command(name: str) -> bool:
    proc = subprocess.run(gate(name, "--help"), capture_output=True, env=env(), check=False,
                          cwd=tempfile.gettempdir())
    return proc.returncode == 0


# Runs the CLI in this interpreter and records the Python process's own peak RSS (KB) in the
# file named by LLMOPS_GATE_BENCH_RSS (wait4's figure is the largest process, often kubectl).
RSS_SCRIPT = """
import atexit, os, resource, sys
def record():
    with open(os.environ["LLMOPS_GATE_BENCH_RSS"], "w") as fh:
        fh.write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
atexit.register(record)
from llmops_gate.commands import main
main(sys.argv[1:])
"""

KV_SCRIPT = """
import sys, yaml, kubernetes_validate as kv
from kubernetes_validate.utils import latest_version
version = latest_version()
loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
ok = bad = missing = 0
with open(sys.argv[1], encoding="utf-8") as fh:
    for doc in yaml.load_all(fh, Loader=loader):
        if not isinstance(doc, dict):
            continue
        try:
            kv.validate(doc, version, strict=True)
            ok += 1
        except kv.SchemaNotFoundError:
            missing += 1
        except Exception:
            bad += 1
print(ok, bad, missing)
"""


_NAME = re.compile(r"^(metadata:\n(?:  .*\n)*?  name: )(\S+)$", re.M)


def stream(outputs: Sequence[str], repo: Path, count: int, dest: Path,
           distinct: bool = False) -> Path:
    """`count` documents: the rendered overlays and the Applications, cycled; with
    `distinct`, copy i of a document has `-i` added to its name, so none repeats."""
    docs: list[str] = []
    for text in outputs:
        docs.extend(d.strip("\n") for d in text.split("\n---\n") if d.strip())
    for app in sorted((repo / "argocd-apps").glob("*.yaml")):
        docs.append(app.read_text(encoding="utf-8").strip("\n"))
    with dest.open("w", encoding="utf-8") as fh:
        for i in range(count):
            doc = docs[i % len(docs)]
            if distinct:
                doc = _NAME.sub(lambda m, i=i: f"{m.group(1)}{m.group(2)}-{i}", doc + "\n",
                                count=1).rstrip("\n")
            fh.write(("\n---\n" if i else "") + doc)
        fh.write("\n")
    return dest


def kubeconform_binary(named: str | None) -> str | None:
    """--kubeconform, else kubeconform on PATH, else the one scripts/test builds."""
    if named:
        return named
    cached = ROOT / ".cache" / "tools" / "kubeconform"
    return shutil.which("kubeconform") or (str(cached) if os.access(cached, os.X_OK) else None)


def kubeconform_schemas(dest: Path, files: Sequence[Path]) -> list[str]:
    """The schemas llmops-gate uses, for kubeconform: the bundled CRD schemas in its layout
    and the Kubernetes ones (from kubernetes-validate) of the kinds in `files`, as
    `-schema-location` arguments (the same export the kubeconform wrapper makes)."""
    import yaml

    sys.path.insert(0, str(ROOT))
    from llmops_gate.validators.schema.kubeconform_schemas import (
        K8S_LAYOUT,
        LAYOUT,
        export_bundled,
        export_kubernetes,
    )
    from llmops_gate.validators.schema.store import GVK, resolve_kubernetes_version

    kinds: set[GVK] = set()
    for file in files:
        with file.open(encoding="utf-8") as fh:
            for doc in yaml.load_all(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
                if isinstance(doc, dict) and doc.get("kind") and doc.get("apiVersion"):
                    kinds.add(GVK.of(str(doc["apiVersion"]), str(doc["kind"])))
    export_bundled(dest, strict=True)
    export_kubernetes(dest, sorted(kinds, key=str), resolve_kubernetes_version(None), True)
    return ["-schema-location", str(dest / LAYOUT), "-schema-location", str(dest / K8S_LAYOUT)]


def schema_rows(table: Table, repeat: int, ndocs: int, repeated: Path, distinct: Path,
                kv: Run | None, work: Path, named: str | None) -> None:
    def ours(path: Path) -> Run:
        # embedded: with kubeconform on PATH, `auto` would measure the wrapper instead
        return run(gate("schema", path, "--format", "json", "--schema-engine", "embedded"))

    rep = best(repeat, lambda: ours(repeated))
    if kv is not None:
        speed = kv.seconds / rep.seconds
        table.add(f"schema {ndocs:,} repeated docs vs kubernetes-validate (speed-up)",
                  secs(rep.seconds), secs(kv.seconds), f"{speed:.1f}x", ">=10x",
                  verdict(speed >= 10) if rep.code in (0, 1) else f"schema exited {rep.code}")
    dis = best(repeat, lambda: ours(distinct))
    binary = kubeconform_binary(named)
    if binary is None:
        table.add(f"schema {ndocs:,} docs vs kubeconform -n {CPUS}", "n/a", "n/a", "n/a",
                  "-", "no kubeconform (--kubeconform, PATH or .cache/tools)")
        return
    locations = kubeconform_schemas(work / "kubeconform-schemas", [repeated])

    def kubeconform(path: Path) -> Run:
        return run([binary, "-n", str(CPUS), "-strict", "-summary", *locations, str(path)])

    for label, mine, path, target, goal in (
            ("repeated", rep, repeated, ">=2x", 2.0), ("distinct", dis, distinct, ">=1x", 1.0)):
        kc = best(repeat, lambda path=path: kubeconform(path))
        speed = kc.seconds / mine.seconds
        table.add(f"schema {ndocs:,} {label} docs vs kubeconform -n {CPUS} (speed-up)",
                  secs(mine.seconds), secs(kc.seconds), f"{speed:.2f}x", target,
                  verdict(speed >= goal) if kc.code == 0 and mine.code == 0
                  else f"exit {mine.code}/{kc.code}")
        table.add("  same, CPU seconds (steadier on a busy machine)", secs(mine.cpu),
                  secs(kc.cpu), f"{kc.cpu / mine.cpu:.2f}x", "-", "-")
        if label == "distinct":
            table.add(f"peak RSS, schema {ndocs:,} distinct docs (largest process) vs "
                      "kubeconform", f"{mine.max_rss_kb / 1024:.0f} MB",
                      f"{kc.max_rss_kb / 1024:.0f} MB", "-", "<150 MB",
                      verdict(mine.max_rss_kb / 1024 < 150))


def kv_missing(path: Path) -> str:
    proc = subprocess.run([PY, "-c", KV_SCRIPT, str(path)], capture_output=True, text=True,
                          env=env(), check=False, cwd=tempfile.gettempdir())
    return proc.stdout.strip()


class Table:
    def __init__(self) -> None:
        self.rows: list[tuple[str, ...]] = []

    def add(self, what: str, ours: str, base: str, ratio: str, target: str, met: str) -> None:
        self.rows.append((what, ours, base, ratio, target, met))
        print(f"  {what}: {ours} vs {base} = {ratio} (target {target}: {met})", flush=True)

    def render(self) -> str:
        head = ("measure", "llmops-gate", "baseline", "ratio", "target", "met")
        rows = [head, *self.rows]
        widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
                 for r in rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(lines)


def secs(x: float) -> str:
    return f"{x:.2f}s" if x >= 0.1 else f"{x * 1000:.0f}ms"


def verdict(ok: bool | None) -> str:
    return "-" if ok is None else ("yes" if ok else "NO")


def main() -> None:
    parser = argparse.ArgumentParser(description="llmops-gate performance runner")
    parser.add_argument("--quick", action="store_true",
                        help="N = 1 and 34, one repetition, a 5,000-document stream")
    parser.add_argument("--models", default=None, help="comma-separated model counts")
    parser.add_argument("--repeat", type=int, default=None, help="runs per measure (best of)")
    parser.add_argument("--docs", type=int, default=None, help="documents in the schema stream")
    parser.add_argument("--keep", type=Path, default=None,
                        help="generate the repos here and keep them")
    parser.add_argument("--kubeconform", default=None,
                        help="the kubeconform binary (default: PATH, else .cache/tools)")
    parser.add_argument("--schema-only", action="store_true",
                        help="only the schema rows (N = the largest model count)")
    parser.add_argument("--skip-kubernetes-validate", action="store_true",
                        help="leave out the kubernetes-validate baseline (about a minute)")
    parser.add_argument("--gate-root", type=Path, default=None,
                        help="measure the llmops_gate package in this folder (a checkout of "
                             "another commit, to compare before and after)")
    args = parser.parse_args()
    if args.gate_root is not None:
        global GATE_ROOT
        GATE_ROOT = args.gate_root.resolve()
    sizes = [int(n) for n in (args.models or ("1,34" if args.quick else "1,34,100")).split(",")]
    if args.schema_only:
        sizes = [max(n for n in sizes if n <= 100)]
    repeat = args.repeat or (1 if args.quick else 3)
    ndocs = args.docs or (5000 if args.quick else 20000)
    kz = kustomize_argv()
    kz_version = subprocess.run([*kz[:1], "version"] if kz[1] == "build" else
                                [kz[0], "version", "--client"], capture_output=True,
                                text=True, check=False).stdout.strip().replace("\n", "; ")
    print(f"llmops-gate benchmarks: {platform.platform()}, {CPUS} CPUs, Python "
          f"{platform.python_version()}, {' '.join(Path(kz[0]).name for _ in [0])} "
          f"{kz[1]} ({kz_version})", flush=True)
    table = Table()
    work = args.keep or Path(tempfile.mkdtemp(prefix="llmops-gate-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        repos: dict[int, Path] = {}
        full: dict[int, Run] = {}
        outputs: dict[int, list[str]] = {}
        runs = [(n, "example") for n in sizes]
        if not args.schema_only and (not args.quick or 34 in sizes):
            runs.append((34, "small"))
        for n, shape in runs:
            repo = make_repo(work, n, shape)
            label = f"N={n}" if shape == "example" else f"N={n} {shape}"
            if shape == "example":
                repos[n] = repo
            print(f"{label}: {len(overlays(repo))} overlays", flush=True)
            if args.schema_only:
                outputs[n] = floor(repo)[1]
                continue
            floors = []
            for _ in range(repeat):
                measured, out = floor(repo)
                floors.append(measured)
                if shape == "example":
                    outputs[n] = out
            f = min(floors, key=lambda r: r.seconds)
            f_cpu = min(r.cpu for r in floors)
            ours = best(repeat, lambda repo=repo: run(gate("validate", repo, "-q",
                                                           "--format", "json")))
            if shape == "example":
                full[n] = ours
            ratio = ours.seconds / f.seconds
            table.add(f"validate {label} ({3 * n} overlays) vs parallel kustomize",
                      secs(ours.seconds), secs(f.seconds), f"{ratio:.2f}x", "<=0.6x",
                      verdict(ratio <= 0.6 if n >= 34 else None))
            cpu_ratio = ours.cpu / f_cpu
            table.add("  same, CPU seconds (steadier on a busy machine)",
                      secs(ours.cpu), secs(f_cpu), f"{cpu_ratio:.2f}x", "-", "-")

        # Schema throughput on streams of rendered documents: repeated (a CI job that
        # concatenates renders) and distinct (every copy renamed: no cache can help).
        source = max(n for n in sizes if n <= 100)
        docs_file = stream(outputs[source], repos[source], ndocs, work / "stream.yaml")
        distinct_file = stream(outputs[source], repos[source], ndocs, work / "distinct.yaml",
                               distinct=True)
        kv: Run | None = None
        counts: list[str] = []
        if not args.skip_kubernetes_validate:
            kv = best(1, lambda: run([PY, "-c", KV_SCRIPT, str(docs_file)]))
            counts = kv_missing(docs_file).split()
        note = (f"kubernetes-validate ok/invalid/no-schema: {'/'.join(counts)}"
                if len(counts) == 3 else "")
        if has_command("schema"):
            schema_rows(table, repeat, ndocs, docs_file, distinct_file, kv, work,
                        args.kubeconform)
        else:
            table.add(f"schema {ndocs:,} docs vs kubernetes-validate", "n/a",
                      secs(kv.seconds) if kv else "-", "n/a", ">=10x",
                      "no `schema` command yet")
        if note:
            print(f"  ({note})", flush=True)
        if args.schema_only:
            print()
            print(table.render())
            return

        # --changed-since after one overlay changed, on the N=34 repo (or the nearest).
        n = min(sizes, key=lambda s: abs(s - 34))
        repo = repos[n]
        target = repo / "models" / model_names(n)[n // 2] / "overlays" / ENVS[1] / "size.yaml"
        target.write_text(target.read_text(encoding="utf-8") + "# resized\n", encoding="utf-8")
        changed = best(repeat, lambda: run(gate("validate", repo, "-q", "--format", "json",
                                                "--changed-since", "HEAD")))
        ratio = changed.seconds / full[n].seconds
        table.add(f"validate --changed-since, 1 of {3 * n} overlays changed, vs full",
                  secs(changed.seconds), secs(full[n].seconds), f"{ratio:.2f}x", "<=0.15x",
                  verdict(ratio <= 0.15))

        # Start-up.
        version = best(max(5, repeat * 3), lambda: run(gate("--version")))
        click = best(max(5, repeat * 3), lambda: run([PY, "-c", "import click"]))
        ratio = version.seconds / click.seconds
        table.add("llmops-gate --version vs python -c 'import click'", secs(version.seconds),
                  secs(click.seconds), f"{ratio:.2f}x", "<=2x", verdict(ratio <= 2))

        # Memory of the biggest full run: llmops-gate's own process, the largest process of
        # the run (a Kustomize build can be the larger one), and the whole process tree at
        # its peak (llmops-gate and the Kustomize processes running at the same moment).
        n = max(sizes)
        rss_file = work / "rss.txt"
        os.environ["LLMOPS_GATE_BENCH_RSS"] = str(rss_file)
        run([PY, "-c", RSS_SCRIPT, "validate", str(repos[n]), "-q", "--format", "json"])
        own = int(rss_file.read_text(encoding="utf-8")) / 1024 if rss_file.exists() else 0.0
        largest = full[n].max_rss_kb / 1024
        tree, _ = tree_peak(gate("validate", repos[n], "-q", "--format", "json"))
        table.add(f"peak RSS, full validate N={n}: whole process tree (own; largest process)",
                  f"{tree / 1024:.0f} MB ({own:.0f}; {largest:.0f} MB)", "-", "-", "<200 MB",
                  verdict(tree / 1024 < 200))
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    print()
    print(table.render())


if __name__ == "__main__":
    main()
