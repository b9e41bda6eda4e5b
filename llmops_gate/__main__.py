from __future__ import annotations

from llmops_gate.cli import main

if __name__ == "__main__":
    main()
