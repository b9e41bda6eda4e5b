from __future__ import annotations

from llmops_gate.commands import main

if __name__ == "__main__":
    main()
