"""The Markdown comment: valid CommonMark (parsed with markdown-it-py) with balanced
`<details>`, and always within the size budget, saying what it left out."""

from __future__ import annotations

from pathlib import Path

from markdown_it import MarkdownIt

from tests.conftest import init_git_repo, run_cli
from tests.review.helpers import commit_all

LIMIT = 65536

CONFIG = """\
version: 1
environments:
  - name: dev
    overlay: overlays/dev
  - name: staging
    overlay: overlays/staging
"""


def check_markdown(body: str) -> list[str]:
    """Parse as CommonMark; the `<details>` blocks open and close in order and no code fence
    is left open. Returns the diff fences' contents."""
    tokens = MarkdownIt("commonmark").parse(body)
    depth = 0
    fences = []
    for t in tokens:
        if t.type in ("html_block", "html_inline"):
            for line in t.content.splitlines():
                depth += line.count("<details>") - line.count("</details>")
                assert depth >= 0, body
        if t.type == "fence":
            fences.append(t.content)
            assert t.info == "diff"
        if t.type == "inline":
            assert "```" not in t.content, t.content
    assert depth == 0
    html = MarkdownIt("commonmark").render(body)
    assert html.count("<details>") == html.count("</details>") == body.count("<summary>")
    return fences


def _big_repo(root: Path, resources: int, lines: int, version: str) -> None:
    base = root / "base"
    base.mkdir(parents=True, exist_ok=True)
    names = []
    for i in range(resources):
        body = "".join(f"    line {n:03d} of config {i:03d}: {version} " + "x" * 50 + "\n"
                       for n in range(lines))
        (base / f"cm-{i:03d}.yaml").write_text(
            f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i:03d}\n"
            f"data:\n  settings.txt: |\n{body}")
        names.append(f"  - cm-{i:03d}.yaml\n")
    (base / "kustomization.yaml").write_text("resources:\n" + "".join(names))
    for env in ("dev", "staging"):
        folder = root / "overlays" / env
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "kustomization.yaml").write_text(
            f"namespace: {env}\nresources:\n  - ../../base\n")


def test_comment_fits_when_the_full_diff_is_ten_times_larger(tmp_path: Path) -> None:
    repo = tmp_path / "big"
    _big_repo(repo, resources=60, lines=40, version="v1")
    (repo / ".llmops-gate.yaml").write_text(CONFIG)
    init_git_repo(repo)
    _big_repo(repo, resources=60, lines=40, version="v2")
    commit_all(repo, "every config changes")
    out = tmp_path / "review.md"
    result = run_cli("review", repo, "--base", "HEAD~1", "--head", "HEAD", "--no-validate",
                     "--format", "markdown", "-o", out)
    assert result.code == 0, result.stderr
    body = out.read_text()
    full = (tmp_path / "review.full.md").read_text()
    assert len(body) <= LIMIT
    assert len(full) >= 10 * LIMIT
    fences = check_markdown(body)
    check_markdown(full)
    assert "Shortened to fit the 65,536-character comment limit; everything is in " \
           "`review.full.md`." in body
    left_out = body.count("_diff left out to fit the comment")
    shown = len(fences)
    assert left_out > 0 and shown > 0
    assert left_out + shown == 120
    assert f"> Left out: {left_out} resource diff(s): " in body
    assert "| dev | `overlays/dev` | 0 | 60 | 0 | 0 |" in body
    assert "| staging | `overlays/staging` | 0 | 60 | 0 | 0 |" in body

    parts = run_cli("review", repo, "--base", "HEAD~1", "--head", "HEAD", "--no-validate",
                    "--format", "markdown", "--split")
    assert parts.code == 0, parts.stderr
    chunks = parts.stdout.split("\n<!-- llmops-gate:review:next-part -->\n")
    assert len(chunks) > 2
    total = len(chunks)
    for n, chunk in enumerate(chunks, start=1):
        assert len(chunk) <= LIMIT
        assert chunk.startswith(f"<!-- llmops-gate:review:{n} -->\n")
        assert f"(part {n}/{total})" in chunk
        check_markdown(chunk)
    assert sum(len(check_markdown(c)) for c in chunks) == 120


def test_gitlab_limit_and_hostile_content_keep_the_markdown_whole(tmp_path: Path) -> None:
    repo = tmp_path / "hostile"
    _big_repo(repo, resources=2, lines=3, version="v1")
    (repo / ".llmops-gate.yaml").write_text(CONFIG)
    init_git_repo(repo)
    cm = repo / "base" / "cm-000.yaml"
    cm.write_text(cm.read_text() + "  notes.md: |\n    ````\n    </details>\n    | a | b |\n"
                  "    <script>x</script>\n")
    commit_all(repo, "markdown in a config")
    result = run_cli("review", repo, "--base", "HEAD~1", "--head", "HEAD", "--no-validate",
                     "--format", "markdown", "--forge", "gitlab")
    assert result.code == 0, result.stderr
    fences = check_markdown(result.stdout)
    assert len(fences) == 2
    assert all("+    </details>" in f for f in fences)
