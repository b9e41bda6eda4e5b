"""cProfile of one `llmops-gate` run, every thread included (the builds' parsing runs in
worker threads, which plain `python -m cProfile` does not see).

    python benchmarks/profile_run.py validate REPO -q --format json [--top 25] [--sort tottime]
        [--save FILE]

Prints the top entries of the merged profile to stderr; the run's own output goes to
/dev/null. Not part of the test suite.
"""

from __future__ import annotations

import contextlib
import cProfile
import io
import os
import pstats
import sys
import threading
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    argv = sys.argv[1:]
    top, sort = 25, "tottime"
    if "--top" in argv:
        i = argv.index("--top")
        top = int(argv[i + 1])
        del argv[i:i + 2]
    if "--sort" in argv:
        i = argv.index("--sort")
        sort = argv[i + 1]
        del argv[i:i + 2]
    save = None
    if "--save" in argv:
        i = argv.index("--save")
        save = argv[i + 1]
        del argv[i:i + 2]
    profiles: list[cProfile.Profile] = []
    lock = threading.Lock()

    def start_thread_profile(*_: Any) -> None:
        # Runs once in each new thread: its own profiler takes over from this hook.
        prof = cProfile.Profile()
        with lock:
            profiles.append(prof)
        prof.enable()

    threading.setprofile(start_thread_profile)
    main_prof = cProfile.Profile()
    profiles.append(main_prof)
    from llmops_gate.commands import main as cli_main

    code: int | str | None = 0
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        main_prof.enable()
        try:
            cli_main(argv)
        except SystemExit as exc:
            code = exc.code
        finally:
            main_prof.disable()
    threading.setprofile(None)  # type: ignore[arg-type]
    out = io.StringIO()
    stats = pstats.Stats(main_prof, stream=out)
    for prof in profiles[1:]:
        with contextlib.suppress(TypeError):  # a thread that never ran Python code
            stats.add(prof)
    if save:
        stats.dump_stats(save)
    stats.sort_stats(sort).print_stats(top)
    sys.stderr.write(out.getvalue())
    sys.stderr.write(f"exit {code}\n")


if __name__ == "__main__":
    main()
