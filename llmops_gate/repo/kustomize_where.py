"""Where in a kustomization file a field or list item is written, for the line a Kustomize
error is about (`kustomize_errors`): its source map's nodes, searched by key and value."""

from __future__ import annotations

from typing import Any

import yaml

from llmops_gate.yamlio.sourcemap import SourceMap


def entry_line(sources: SourceMap, kfile: str, key: str,
                match: Any) -> tuple[int | None, int | None]:
    """Line of the item of list `key` in a kustomization that `match` selects."""
    docs = sources.documents(kfile)
    if not docs:
        return None, None
    node = docs[0].node
    if not isinstance(node, yaml.MappingNode):
        return None, None
    for k, v in node.value:
        if isinstance(k, yaml.ScalarNode) and k.value == key and isinstance(v, yaml.SequenceNode):
            for item in v.value:
                if match(item):
                    return int(item.start_mark.line) + 1, int(item.start_mark.column) + 1
    return None, None


def scalar_line(sources: SourceMap, kfile: str, key: str,
                 value: str) -> tuple[int | None, int | None]:
    """Where the scalar `value` (or `name=value`) first appears under top-level `key`."""
    docs = sources.documents(kfile)
    top = mapping_value(docs[0].node, key) if docs else None
    stack: list[yaml.Node] = [top] if top is not None else []
    while stack:
        node = stack.pop(0)
        if isinstance(node, yaml.ScalarNode):
            if node.value == value or node.value.endswith("=" + value):
                return int(node.start_mark.line) + 1, int(node.start_mark.column) + 1
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            stack.extend(v for _, v in node.value)
    return None, None


def mapping_value(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                value: yaml.Node = v
                return value
    return None


def key_line(sources: SourceMap, kfile: str, key: str) -> int | None:
    docs = sources.documents(kfile)
    if not docs or not isinstance(docs[0].node, yaml.MappingNode):
        return None
    for k, _ in docs[0].node.value:
        if isinstance(k, yaml.ScalarNode) and k.value == key:
            return int(k.start_mark.line) + 1
    return None


def plain_mapping(node: yaml.Node | None) -> Any:
    if not isinstance(node, yaml.MappingNode):
        return None
    return {k.value: v.value for k, v in node.value
            if isinstance(k, yaml.ScalarNode) and isinstance(v, yaml.ScalarNode)}
