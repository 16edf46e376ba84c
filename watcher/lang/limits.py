"""Limits on rule files, checked before any work that grows with what they measure.

A rule file is small and flat: a few hundred rules, a handful of levels deep. A hostile or
careless one is not: a 442-byte alias bomb (`x1: &a1 [*a0, *a0, ...]`, nine levels) expands to
hundreds of millions of nodes, and 500 nested `[` overflow the stack of every recursive walk.
So, the way safe YAML loaders do it (libyaml's `max_alias_expansion`, go-yaml's alias ratio),
depth and aliases are counted while PyYAML composes, then the composed node graph is measured
(an aliased node counted at each use but walked once), and the file is refused with the line and
column where a limit is crossed, before anything is built from it. Each refusal is an ordinary
error.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode

MAX_FILE_BYTES = 1024 * 1024
MAX_DEPTH = 40  # collections inside collections; a rule needs about 8
MAX_ALIASES = 1000  # `*name` uses
MAX_NODES = 100_000  # scalars and collections once aliases are expanded
MAX_RULES = 1000  # per file


@dataclass(frozen=True)
class LimitError(Exception):
    """A limit crossed at a 1-based line and column (None: the file as a whole)."""

    message: str
    line: int | None = None
    col: int | None = None

    def __str__(self) -> str:
        return self.message


def _at(mark: yaml.Mark | None) -> tuple[int | None, int | None]:
    return (mark.line + 1, mark.column + 1) if mark is not None else (None, None)


def check_size(content: bytes) -> None:
    """Refuse a file over `MAX_FILE_BYTES` before decoding it."""
    if len(content) > MAX_FILE_BYTES:
        raise LimitError(f"file is {len(content):,} bytes, over the limit of "
                         f"{MAX_FILE_BYTES:,} bytes for a rule file (split it)")


_FAST = getattr(yaml, "CSafeLoader", None)  # libyaml: 30x faster than PyYAML's own parser


def safe_loader(text: str) -> yaml.SafeLoader:
    """A safe loader for `text` whose composing stays within the depth and alias limits.

    With libyaml the limits are checked on its event stream first (an iteration, and cheap),
    then libyaml composes; without it, or for a file with a syntax error (PyYAML's messages
    are the ones users see), PyYAML's loader counts as it composes."""
    _check_flow_depth(text)
    if _FAST is None:
        return LimitedLoader(text)
    try:
        _check_events(yaml.parse(text, Loader=_FAST))
    except yaml.YAMLError:
        return LimitedLoader(text)
    return _FAST(text)  # type: ignore[no-any-return]


_SPECIAL = re.compile(r"[\[\]{}'\"#\\\n]")


def _check_flow_depth(text: str) -> None:
    """Flow brackets (`[[[[...`) counted before any parser sees them: libyaml's and PyYAML's
    scanners both take time quadratic in that depth (2 s at 3,000, found by the fuzz suite).
    Quoted text and comments are skipped; only the special characters are visited."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return
    depth, quote, comment = 0, "", False
    for match in _SPECIAL.finditer(text):
        char, at = match.group(), match.start()
        if comment:
            comment = char != "\n"
        elif quote:
            if char == quote and not (quote == '"' and _escaped(text, at)):
                quote = ""
        elif char in "'\"" and (at == 0 or text[at - 1] in " \t\n[{,:"):
            quote = char  # a quote opens a scalar only where a token starts (not in "it's")
        elif char == "#" and (at == 0 or text[at - 1] in " \t\n"):
            comment = True
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                line = text.count("\n", 0, at)
                col = at - (text.rfind("\n", 0, at) + 1)
                raise LimitError(f"nested more than {MAX_DEPTH} levels deep (a rule needs "
                                 "about 8)", line + 1, col + 1)
        elif char in "]}":
            depth = max(depth - 1, 0)


def _escaped(text: str, at: int) -> bool:
    """Whether the character at `at` follows an odd run of backslashes."""
    run = 0
    while at - run - 1 >= 0 and text[at - run - 1] == "\\":
        run += 1
    return run % 2 == 1


def _check_events(events: Iterable[yaml.Event]) -> None:
    depth = aliases = 0
    for event in events:
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise _too_deep(event)
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
        elif isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > MAX_ALIASES:
                raise _too_many_aliases(event)


def _too_deep(event: yaml.Event) -> LimitError:
    return LimitError(f"nested more than {MAX_DEPTH} levels deep (a rule needs about 8)",
                      *_at(event.start_mark))


def _too_many_aliases(event: yaml.Event) -> LimitError:
    return LimitError(f"more than {MAX_ALIASES} aliases ('*name') in one file",
                      *_at(event.start_mark))


class LimitedLoader(yaml.SafeLoader):
    """PyYAML's safe loader, counting depth and aliases as it composes (its composer recurses
    once per level, so the depth is refused before the stack is at risk)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._aliases = 0

    def compose_node(self, parent: Node | None, index: object) -> Node | None:
        """PyYAML's hook per node: counts aliases and depth; raises once either is too high."""
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise _too_many_aliases(event)
        elif isinstance(event, yaml.CollectionStartEvent):
            self._depth += 1
            if self._depth > MAX_DEPTH:
                raise _too_deep(event)
            try:
                return super().compose_node(parent, index)
            finally:
                self._depth -= 1
        return super().compose_node(parent, index)


def check_expansion(root: Node) -> None:
    """Refuse a node graph whose aliases expand past `MAX_NODES`; a recursive alias too.

    Each distinct node is walked once (its expanded size memoized), so a bomb costs as much to
    measure as it took to write. The error points at the innermost node that alone is too big.
    """
    sizes: dict[int, int] = {}
    walking: set[int] = set()

    def size(node: Node) -> int:
        known = sizes.get(id(node))
        if known is not None:
            return known
        if id(node) in walking:
            raise LimitError("recursive alias: a node contains itself", *_at(node.start_mark))
        walking.add(id(node))
        total = 1
        if isinstance(node, SequenceNode):
            total += sum(size(item) for item in node.value)
        elif isinstance(node, MappingNode):
            total += sum(size(key) + size(value) for key, value in node.value)
        walking.discard(id(node))
        if total > MAX_NODES:
            raise LimitError(f"expands to more than {MAX_NODES:,} values through aliases "
                             f"(an alias bomb?): {total:,} here", *_at(node.start_mark))
        sizes[id(node)] = total
        return total

    size(root)
