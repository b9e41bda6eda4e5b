"""PyYAML's C loader vs the Go-reading loaders (llmops_gate.yamlio.reading) on real manifests:
load time of the same text, best of REPEAT, alternated so machine load hits both alike. Prints
ratios; not a test.

    python benchmarks/bench_yaml_reading.py [REPEAT] [FOLDER...]

Without folders it reads every YAML file of ../shared/corpus (else the example repo).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import yaml

from llmops_gate.yamlio import KubeLoader, KustomizeLoader, SafeLoader

ROOT = Path(__file__).resolve().parent.parent


def texts(folders: list[Path]) -> list[str]:
    out = []
    for folder in folders:
        for path in sorted(folder.rglob("*.y*ml")):
            try:
                text = path.read_text(encoding="utf-8")
                list(yaml.load_all(text, Loader=SafeLoader))
            except (OSError, UnicodeDecodeError, yaml.YAMLError):
                continue  # only what every loader can read is compared
            out.append(text)
    return out


def main() -> None:
    repeat = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    folders = [Path(a) for a in sys.argv[2:]]
    if not folders:
        corpus = ROOT.parent / "shared" / "corpus"
        folders = [corpus if corpus.is_dir() else ROOT / "examples" / "gitops-repo"]
    docs = texts(folders)
    size = sum(len(t) for t in docs)
    loaders = {"CSafeLoader (PyYAML)": SafeLoader, "KubeLoader": KubeLoader,
               "KustomizeLoader": KustomizeLoader}
    best = dict.fromkeys(loaders, float("inf"))
    for _ in range(repeat):
        for name, loader in loaders.items():
            start = time.perf_counter()
            for text in docs:
                for _doc in yaml.load_all(text, Loader=loader):
                    pass
            best[name] = min(best[name], time.perf_counter() - start)
    base = best["CSafeLoader (PyYAML)"]
    print(f"{len(docs)} files, {size / 1024 / 1024:.1f} MiB, best of {repeat}")
    for name, seconds in best.items():
        print(f"{name:22} {seconds:7.3f} s  {size / seconds / 1024 / 1024:5.2f} MiB/s  "
              f"x{seconds / base:.2f}")


if __name__ == "__main__":
    main()
