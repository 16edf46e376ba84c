"""Templates that can explode: what `watcher rules check` warns about before they run.

Pure: the template's syntax tree is searched for the shapes whose cost grows with data or with a
number (`x ** job.run_count`, loops inside loops, `range(n)` with a computed or large `n`, a
string repeated by a computed count, a macro that calls itself). The sandbox stops each of them
at render time (`watcher.sandbox`), failing that action; the warning says so at load time, when
the rule can still be fixed. A warning does not make the file invalid.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from jinja2 import nodes

from watcher import sandbox, templating
from watcher.lang.errors import DataPath, Problem
from watcher.rules.model import Rule


def warnings(rule: Rule, do_paths: list[DataPath]) -> list[Problem]:
    """A warning for each risky template in the rule's actions, at its parameter."""
    found = []
    for call, path in zip(rule.do, do_paths, strict=True):
        for where, template in _templates(call.params, (*path, call.type)):
            found += [Problem(where, f"template can explode: {why}", warning=True)
                      for why in risks(template)]
    return found


def _templates(value: Any, at: DataPath) -> Iterator[tuple[DataPath, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _templates(item, (*at, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _templates(item, (*at, i))
    elif templating.is_template(value):
        yield at, value


def risks(template: str) -> list[str]:
    """Why `template` can take long or grow large, one reason per shape found."""
    try:
        tree = templating.parse(template)
    except Exception:  # syntax and shape errors are reported by `check_syntax`
        return []
    return list(dict.fromkeys(_risks(tree)))


def _risks(tree: nodes.Template) -> Iterator[str]:
    for node in tree.find_all(nodes.Pow):
        if not (isinstance(node.right, nodes.Const) and isinstance(node.right.value, int)
                and node.right.value <= 64):
            yield (f"'**' with a computed or large exponent can take seconds (a render stops "
                   f"past {sandbox.MAX_POWER_BITS} bits)")
    for node in tree.find_all(nodes.Mul):
        sides = (node.left, node.right)
        if any(isinstance(s, nodes.Const) and isinstance(s.value, str) for s in sides) and \
                not all(isinstance(s, nodes.Const) for s in sides):
            yield (f"a string repeated by a computed count can grow large (a render stops at "
                   f"{sandbox.MAX_OUTPUT:,} characters)")
    for loop in tree.find_all(nodes.For):
        if any(True for _ in loop.find_all(nodes.For)):
            yield (f"loops inside loops multiply (a render stops after "
                   f"{sandbox.MAX_ITERATIONS:,} iterations)")
            break
    for call in tree.find_all(nodes.Call):
        if isinstance(call.node, nodes.Name) and call.node.name == "range" and not all(
                isinstance(a, nodes.Const) and isinstance(a.value, int)
                and abs(a.value) <= sandbox.MAX_RANGE for a in call.args):
            yield f"range() of a computed or large size (a render stops past {sandbox.MAX_RANGE:,})"
    for macro in tree.find_all(nodes.Macro):
        if any(isinstance(c.node, nodes.Name) and c.node.name == macro.name
               for c in macro.find_all(nodes.Call)):
            yield (f"macro '{macro.name}' calls itself (a render stops after "
                   f"{sandbox.BUDGET:g} s)")
