"""Manifests several tests write: one place for each, with what varies as arguments."""

from __future__ import annotations


def deployment(replicas: str | None = "1", image: str = "nginx") -> str:
    """The `web` Deployment (selector and template labels `app: web`, one container `web`).
    `replicas: two` is the schema defect several tests plant; None leaves the field out."""
    spec = f"  replicas: {replicas}\n" if replicas is not None else ""
    return f"""\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
{spec}  selector:
    matchLabels: {{app: web}}
  template:
    metadata:
      labels: {{app: web}}
    spec:
      containers:
        - name: web
          image: {image}
"""
