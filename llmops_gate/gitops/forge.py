"""Opening a pull request (GitHub) or merge request (GitLab) through their REST APIs.

Tokens come from `GITHUB_TOKEN` / `GITLAB_TOKEN` only and are never printed: every message
that leaves this module has them masked. The API URL is configurable for GitHub Enterprise and
self-hosted GitLab (`promotion.forge.api_url`).
"""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from llmops_gate import __version__
from llmops_gate.errors import GateError

DEFAULT_API = {"github": "https://api.github.com", "gitlab": "https://gitlab.com/api/v4"}
TOKEN_ENV = {"github": "GITHUB_TOKEN", "gitlab": "GITLAB_TOKEN"}
TIMEOUT = 30.0


@dataclass(frozen=True)
class Forge:
    provider: str
    api_url: str
    repository: str
    token: str

    def mask(self, text: str) -> str:
        return text.replace(self.token, "***") if self.token else text


def _from_remote(url: str) -> tuple[str | None, str | None]:
    """(provider, owner/name) guessed from a remote URL on github.com or gitlab.com."""
    m = re.match(r"^(?:https?://(?:[^@/]+@)?|git@|ssh://git@)(github\.com|gitlab\.com)[:/]"
                 r"(.+?)(?:\.git)?/?$", url)
    if not m:
        return None, None
    return ("github" if m.group(1) == "github.com" else "gitlab"), m.group(2)


def resolve(settings: Mapping[str, Any], remote_url: str | None,
            environ: Mapping[str, str] | None = None, what: str = "--open-pr") -> Forge:
    env = os.environ if environ is None else environ
    provider = settings.get("provider")
    repository = settings.get("repository")
    if remote_url and (not provider or not repository):
        guessed_provider, guessed_repo = _from_remote(remote_url)
        provider = provider or guessed_provider
        repository = repository or guessed_repo
    if provider not in DEFAULT_API:
        raise GateError(f"{what}: cannot tell the forge; set promotion.forge.provider "
                        "(github or gitlab) and promotion.forge.repository in .llmops-gate.yaml")
    if not repository:
        raise GateError(f"{what}: set promotion.forge.repository (owner/name) in "
                        ".llmops-gate.yaml")
    token = env.get(TOKEN_ENV[provider], "")
    if not token:
        raise GateError(f"{what}: {TOKEN_ENV[provider]} is not set")
    api = str(settings.get("api_url") or DEFAULT_API[provider]).rstrip("/")
    return Forge(provider=str(provider), api_url=api, repository=str(repository), token=token)


def _headers(forge: Forge) -> dict[str, str]:
    if forge.provider == "github":
        return {"Authorization": f"Bearer {forge.token}",
                "Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
    return {"PRIVATE-TOKEN": forge.token}


def call(forge: Forge, method: str, url: str, payload: Mapping[str, Any] | None = None,
         headers: Mapping[str, str] | None = None) -> Any:
    """One REST call; the parsed JSON answer. Every error message has the token masked."""
    data = json.dumps(payload).encode("utf-8") if payload is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={
        "Content-Type": "application/json", "User-Agent": f"llmops-gate/{__version__}",
        **(headers if headers is not None else _headers(forge))})
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:
            body = resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode("utf-8", "replace")[:500]
        raise GateError(forge.mask(f"{forge.provider} API {url} answered {exc.code}: "
                                   f"{_message(detail)}")) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise GateError(forge.mask(f"{forge.provider} API {url} unreachable: {reason}")) from None
    try:
        return json.loads(body)
    except json.JSONDecodeError:
        raise GateError(forge.mask(f"{forge.provider} API {url} did not answer JSON")) from None


def _request(forge: Forge, url: str, payload: Mapping[str, Any],
             headers: Mapping[str, str]) -> dict[str, Any]:
    parsed = call(forge, "POST", url, payload, headers)
    if not isinstance(parsed, dict):
        raise GateError(f"{forge.provider} API {url} answered an unexpected shape")
    return parsed


def _message(detail: str) -> str:
    try:
        data = json.loads(detail)
    except json.JSONDecodeError:
        return detail.strip() or "(no body)"
    if isinstance(data, dict):
        return str(data.get("message") or data.get("error") or data)
    return str(data)


def open_request(forge: Forge, head: str, base: str, title: str, body: str) -> str:
    """Open the pull/merge request; returns its web URL."""
    if forge.provider == "github":
        url = f"{forge.api_url}/repos/{forge.repository}/pulls"
        data = _request(forge, url, {"title": title, "head": head, "base": base, "body": body},
                        {"Authorization": f"Bearer {forge.token}",
                         "Accept": "application/vnd.github+json",
                         "X-GitHub-Api-Version": "2022-11-28"})
        link = data.get("html_url")
    else:
        project = urllib.parse.quote(forge.repository, safe="")
        url = f"{forge.api_url}/projects/{project}/merge_requests"
        data = _request(forge, url, {"source_branch": head, "target_branch": base,
                                     "title": title, "description": body,
                                     "remove_source_branch": True},
                        {"PRIVATE-TOKEN": forge.token})
        link = data.get("web_url")
    if not isinstance(link, str):
        raise GateError(f"{forge.provider} API {url} answered without a request URL")
    return link


# --- the tool's own comment on a pull/merge request ------------------------------------------

PAGE_SIZE = 100
MAX_PAGES = 50  # 5,000 comments: past that a thread is not read to the end


@dataclass(frozen=True)
class Comment:
    id: int
    body: str


def _comments_url(forge: Forge, number: int) -> str:
    if forge.provider == "github":
        return f"{forge.api_url}/repos/{forge.repository}/issues/{number}/comments"
    project = urllib.parse.quote(forge.repository, safe="")
    return f"{forge.api_url}/projects/{project}/merge_requests/{number}/notes"


def list_comments(forge: Forge, number: int) -> list[Comment]:
    """Every comment of the pull/merge request (all pages)."""
    out: list[Comment] = []
    base = _comments_url(forge, number)
    for page in range(1, MAX_PAGES + 1):
        data = call(forge, "GET", f"{base}?per_page={PAGE_SIZE}&page={page}")
        if not isinstance(data, list):
            raise GateError(f"{forge.provider} API {base} answered an unexpected shape")
        for item in data:
            if isinstance(item, dict) and isinstance(item.get("id"), int):
                out.append(Comment(id=item["id"], body=str(item.get("body") or "")))
        if len(data) < PAGE_SIZE:
            break
    return out


def create_comment(forge: Forge, number: int, body: str) -> Comment:
    data = call(forge, "POST", _comments_url(forge, number), {"body": body})
    if not isinstance(data, dict) or not isinstance(data.get("id"), int):
        raise GateError(f"{forge.provider} API answered a new comment without its id")
    return Comment(id=data["id"], body=str(data.get("body") or body))


def update_comment(forge: Forge, number: int, comment_id: int, body: str) -> None:
    if forge.provider == "github":
        url = f"{forge.api_url}/repos/{forge.repository}/issues/comments/{comment_id}"
        call(forge, "PATCH", url, {"body": body})
    else:
        call(forge, "PUT", f"{_comments_url(forge, number)}/{comment_id}", {"body": body})
