"""YAML with positions: the data of a rule file plus the line and column of every key and value.

PyYAML's `compose` keeps marks on nodes; we build the plain data ourselves from the node tree,
recording marks by data path, so any problem found later (by pydantic or by hand) can point at
the line of the offending key or value. Two YAML 1.1 surprises are fixed on the way: duplicate
keys are reported instead of silently keeping the last, and `18:00` stays the string "18:00"
instead of becoming the base-60 integer 1080.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from watcher.lang.errors import DataPath, Problem
from watcher.lang.limits import check_expansion, safe_loader

_NUMBER_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
# What rule files are made of. `!!binary` (bytes a str field would take), `!!set`, `!!omap`,
# `!!pairs` and `!!python/...` have no place in them; timestamps stay (PyYAML reads
# `2026-12-01` as a date by itself).
_TAGS = frozenset(f"tag:yaml.org,2002:{name}" for name in (
    "str", "int", "float", "bool", "null", "seq", "map", "merge", "timestamp"))


@dataclass
class Marks:
    """Where each data path is in the file (0-based marks, 1-based answers)."""

    keys: dict[DataPath, yaml.Mark] = field(default_factory=dict)
    values: dict[DataPath, yaml.Mark] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    # Values refused outright (an unsupported tag): reported alone, as nothing was built there.
    refused: list[Problem] = field(default_factory=list)
    own_keys: dict[int, set[int]] = field(default_factory=dict, repr=False)

    def locate(self, path: DataPath, at_key: bool = False) -> tuple[int, int] | None:
        """Line and column of `path`'s key (or value); a path that does not exist (a missing
        key) falls back to its nearest existing parent, shown at the parent's key."""
        exact = path in self.values
        while path and path not in self.values:
            path = path[:-1]
        use_key = (at_key or not exact) and path in self.keys
        mark = self.keys[path] if use_key else self.values.get(path)
        return (mark.line + 1, mark.column + 1) if mark else None

    def line(self, path: DataPath) -> int | None:
        """The 1-based line of the key at `path`, or None when the document has no mark for it."""
        where = self.locate(path, at_key=True)
        return where[0] if where else None


def compose(text: str) -> tuple[Any, Marks]:
    """Parse one YAML document; raises `yaml.YAMLError` (with a mark) on bad syntax and
    `LimitError` on a file too deep or with too many aliases or expanded values."""
    loader = safe_loader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            check_expansion(node)
        marks = Marks()
        data = None if node is None else _build(loader, node, (), marks, set())
    finally:
        loader.dispose()
    return data, marks


def _build(loader: yaml.SafeLoader, node: Node, path: DataPath, marks: Marks,
           stack: set[int]) -> Any:
    marks.values[path] = node.start_mark
    if node.tag not in _TAGS:
        marks.refused.append(Problem(path, f"unsupported YAML tag '{_short(node.tag)}'"))
        return None
    if isinstance(node, ScalarNode):
        if node.tag in _NUMBER_TAGS and ":" in node.value:
            return node.value
        return loader.construct_object(node, deep=True)
    if id(node) in stack:
        raise yaml.constructor.ConstructorError(None, None, "recursive alias", node.start_mark)
    stack = stack | {id(node)}
    if isinstance(node, SequenceNode):
        return [_build(loader, item, (*path, i), marks, stack)
                for i, item in enumerate(node.value)]
    assert isinstance(node, MappingNode)
    # Flattening changes the node in place, so an aliased mapping seen again must reuse the
    # keys it had before.
    own = marks.own_keys.setdefault(id(node), {id(k) for k, _ in node.value
                                               if k.tag != "tag:yaml.org,2002:merge"})
    loader.flatten_mapping(node)  # `<<: *defaults` merges; keys written here override them
    data: dict[Any, Any] = {}
    written: set[Any] = set()
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str | int | float | bool) and key is not None:
            raise yaml.constructor.ConstructorError(None, None, "expected a plain key",
                                                    key_node.start_mark)
        if key in written and id(key_node) in own:
            first = marks.keys[(*path, key)].line + 1
            marks.problems.append(Problem((*path, key), f"duplicate key '{key}' (first at "
                                                         f"line {first})", at_key=True))
        written.update([key] if id(key_node) in own else [])
        marks.keys[(*path, key)] = key_node.start_mark
        data[key] = _build(loader, value_node, (*path, key), marks, stack)
    return data


def _short(tag: str) -> str:
    return tag.replace("tag:yaml.org,2002:", "!!")
