"""The template sandbox's limits: what one render may cost, in time and in size.

Jinja's sandbox blocks escapes (dunder attributes, unsafe callables) but not cost:
`{{ (job.run_count + 8) ** 9999999 }}` computes for 12 s, two nested `range(99999)` loops for
minutes, `"x" * 10**10` or `"x"|center(10**10)` allocate gigabytes, and none of them can be
interrupted from outside the thread. So every costly operation is checked *before* it runs:

- `**` whose result would exceed `MAX_POWER_BITS`, `*` that repeats a string or list past
  `MAX_OUTPUT`, `~`/`+` that concatenate past it, `%`/`.format`/`|format` with a field width
  of six digits or more, a filter or call given a count over `MAX_OUTPUT`;
- `range()` longer than `MAX_RANGE`, and every loop iteration counted against
  `MAX_ITERATIONS` per render;
- the output, counted as it is produced, against `MAX_OUTPUT`;
- a wall-clock `BUDGET` per render, checked at every call, attribute, operator, loop iteration
  and piece of output, so no mix of cheap steps runs long either.

`Budget` carries one render's counters (thread-local: rendering runs in worker threads).
Crossing a limit raises `TemplateLimit`, which the caller turns into a permanent failure.
"""

from __future__ import annotations

import functools
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from jinja2 import nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
from jinja2.visitor import NodeTransformer

MAX_TEMPLATE_CHARS = 10_000
MAX_NESTING = 20  # brackets inside brackets: `((((x))))`
MAX_OUTPUT = 100_000  # characters of one render (a mail body is far smaller)
MAX_RANGE = 10_000
MAX_ITERATIONS = 100_000  # loop iterations of one render, all loops together
MAX_POWER_BITS = 4096
BUDGET = 0.5  # seconds of one render

# A field width or precision of six digits or more: `%0999999d`, `%.999999f`, `{:>999999}`.
_WIDE_PERCENT = re.compile(r"%[-#0 +]*(\d{6,}|\*?\.\d{6,})")
_WIDE_BRACE = re.compile(r"\{[^{}]*:[^{}]*\d{6,}[^{}]*\}")


_DELIMITERS = re.compile(r"\{[{%#]|[}%#]\}")


class TemplateLimit(SecurityError):
    """A render crossed one of the limits; the message says which."""


class OverBudget(TemplateLimit):
    """A render ran past its wall-clock budget."""


@dataclass
class Budget:
    """One render's counters."""

    deadline: float
    iterations: int = 0
    output: int = 0
    seconds: float = BUDGET

    def tick(self) -> None:
        """Raise OverBudget once the template has run past its time budget."""
        if time.monotonic() > self.deadline:
            raise OverBudget(f"template ran over its time budget of {self.seconds:g} s")


@dataclass
class _Current(threading.local):
    budget: Budget | None = field(default=None)


_current = _Current()


def _tick() -> None:
    budget = _current.budget
    if budget is not None:
        budget.tick()


def render_bounded(chunks: Iterable[str], seconds: float = BUDGET) -> str:
    """Join a template's output pieces under a fresh `Budget`."""
    budget = Budget(time.monotonic() + seconds, seconds=seconds)
    outer, _current.budget = _current.budget, budget
    try:
        out = []
        for chunk in chunks:
            budget.output += len(chunk)
            if budget.output > MAX_OUTPUT:
                raise TemplateLimit(f"template output over {MAX_OUTPUT:,} characters")
            budget.tick()
            out.append(chunk)
        return "".join(out)
    finally:
        _current.budget = outer


def _size(value: Any) -> int | None:
    return len(value) if isinstance(value, str | bytes | list | tuple) else None


def _check_count(value: Any) -> None:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_OUTPUT:
        raise TemplateLimit(f"count {value} over the template limit of {MAX_OUTPUT:,}")


def _check_format(text: Any) -> None:
    if isinstance(text, str) and (_WIDE_PERCENT.search(text) or _WIDE_BRACE.search(text)):
        raise TemplateLimit("format field width or precision too large for a template")


def _check_power(base: Any, exponent: Any) -> None:
    if not (isinstance(base, int) and isinstance(exponent, int)) or exponent <= 1:
        return
    if abs(base) > 1 and abs(base).bit_length() * exponent > MAX_POWER_BITS:
        raise TemplateLimit(f"{base} ** {exponent} is over {MAX_POWER_BITS} bits")


def _check_binop(operator: str, left: Any, right: Any) -> None:
    if operator == "**":
        _check_power(left, right)
    elif operator == "*":
        for seq, count in ((left, right), (right, left)):
            size = _size(seq)
            if size is not None and isinstance(count, int) and size * count > MAX_OUTPUT:
                raise TemplateLimit(f"repeating makes more than {MAX_OUTPUT:,} items")
    elif operator == "+":
        sizes = (_size(left), _size(right))
        if None not in sizes and sum(sizes) > MAX_OUTPUT:  # type: ignore[arg-type]
            raise TemplateLimit(f"concatenating makes more than {MAX_OUTPUT:,} items")
    elif operator == "%":
        _check_format(left)


def _counted(iterable: Iterable[Any]) -> Iterator[Any]:
    budget = _current.budget
    for item in iterable:
        if budget is not None:
            budget.iterations += 1
            if budget.iterations > MAX_ITERATIONS:
                raise TemplateLimit(f"template loops over {MAX_ITERATIONS:,} times")
            budget.tick()
        yield item


def _concat(*parts: Any) -> str:
    texts = [str(part) for part in parts]
    if sum(map(len, texts)) > MAX_OUTPUT:
        raise TemplateLimit(f"concatenating makes more than {MAX_OUTPUT:,} characters")
    return "".join(texts)


def _range(*args: int) -> range:
    rng = range(*args)
    if len(rng) > MAX_RANGE:
        raise TemplateLimit(f"range of {len(rng):,} items is over the template limit of "
                            f"{MAX_RANGE:,}")
    return rng


def _guarded_filter(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)  # keeps `jinja_pass_arg`, so Jinja passes context/environment still
    def guarded(*args: Any, **kwargs: Any) -> Any:
        _tick()
        for value in (*args, *kwargs.values()):
            _check_count(value)
        if fn.__name__ == "do_format" or fn.__name__ == "format":
            _check_format(next((a for a in args if isinstance(a, str)), None))
        result = fn(*args, **kwargs)
        if isinstance(result, str) and len(result) > MAX_OUTPUT:
            raise TemplateLimit(f"filter output over {MAX_OUTPUT:,} characters")
        return result

    return guarded


class LimitedSandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox with the limits above."""

    intercepted_binops = frozenset({"**", "*", "+", "%"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.globals["range"] = _range
        self.filters = {name: _guarded_filter(fn) for name, fn in self.filters.items()}
        self.watcher_loop = _counted  # see `_parse`
        self.watcher_concat = _concat

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        check_shape(source)
        tree = super()._parse(source, name, filename)
        return _Guard().visit(tree)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        """Checked against the time budget and size limits before it runs."""
        _tick()
        _check_binop(operator, left, right)
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        """Checked against the time budget and size limits before it runs."""
        _tick()
        for value in (*args, *kwargs.values()):
            _check_count(value)
        return super().call(__context, __obj, *args, **kwargs)

    def getattr(self, obj: Any, attribute: str) -> Any:
        """Checked against the time budget before the attribute is read."""
        _tick()
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        """Checked against the time budget before the item is read."""
        _tick()
        return super().getitem(obj, argument)

    def wrap_str_format(self, value: Any) -> Any:
        """`str.format` wrapped by Jinja, its template checked for size limits too."""
        wrapped = super().wrap_str_format(value)
        if wrapped is not None:
            _check_format(getattr(value, "__self__", None))
        return wrapped


class _Guard(NodeTransformer):
    """Loops and `~` cannot be intercepted like operators: route them through our checks."""

    def visit_For(self, node: nodes.For) -> nodes.For:
        self.generic_visit(node)
        node.iter = nodes.Call(nodes.EnvironmentAttribute("watcher_loop"), [node.iter], [],
                               None, None, lineno=node.lineno)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Call:
        self.generic_visit(node)
        return nodes.Call(nodes.EnvironmentAttribute("watcher_concat"), node.nodes, [], None,
                          None, lineno=node.lineno)


def check_shape(source: str) -> None:
    """Refuse a template too long or nested too deeply before Jinja's (recursive) parser."""
    if len(source) > MAX_TEMPLATE_CHARS:
        raise TemplateLimit(f"template is {len(source):,} characters, over the limit of "
                            f"{MAX_TEMPLATE_CHARS:,}")
    depth = deepest = 0
    # Brackets inside string literals count too: harmless over-counting.
    for char in _DELIMITERS.sub("", source):
        if char in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in ")]}":
            depth = max(depth - 1, 0)
    if deepest > MAX_NESTING:
        raise TemplateLimit(f"template nested more than {MAX_NESTING} brackets deep")
