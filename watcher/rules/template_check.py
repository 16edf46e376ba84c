"""Check the names a template uses against the context its rule's triggers really provide.

Pure: a template's Jinja AST is walked for variable references (`jobb`, `job.walltime`,
`event.attrs.eror`, `steps[1].job_id`) and each is looked up in the shapes of
`watcher.rules.template_context`. A name some of the rule's triggers do not give (`job` under a
`quota` trigger) is an error too, unless the template guards it (`job is defined`,
`job | default(...)`). Names the template sets itself (`{% set %}`, `{% for %}`, macro
arguments) and Jinja's globals (`range`, `loop`, ...) are left alone.

Each finding carries the word to point at and which occurrence of it in the template, so the
loader can give the file's line and column.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jinja2
from jinja2 import nodes

from watcher import templating
from watcher.lang.errors import did_you_mean
from watcher.rules.template_context import (
    ANY,
    JOB,
    SUBJECT_VARIABLES,
    WORKFLOW,
    TriggerContext,
)

# Methods of the mappings templates see (`event.attrs.get('error')`), never attribute typos.
_MAPPING_METHODS = frozenset({"get", "items", "keys", "values"})
# Jinja's own names, valid in any template.
_JINJA_NAMES = frozenset({"loop", "caller", "varargs", "kwargs", "self", "super"})
# Filters and tests that make an undefined value safe, so what they apply to is not checked.
_GUARD_FILTERS = frozenset({"default", "d"})
_GUARD_TESTS = frozenset({"defined", "undefined"})
# What `job.walltime` should have been: resources PBS reports under Resource_List.
_RESOURCE_HINTS = frozenset({"walltime", "ncpus", "mem", "select", "nodes", "cput", "ngpus",
                             "place", "mpiprocs", "vmem", "nodect", "soft_walltime"})
# `workflow` names of the three-step engine before the one engine: where each id is now.
_WORKFLOW_RENAMED = {"compute_job": "jobs.compute", "cleanup_job": "jobs.cleanup",
                     "stage_in_task": 'tasks["stage-in"]', "stage_out_task": 'tasks["stage-out"]',
                     "compute_jobs": "steps.compute.jobs"}


@dataclass(frozen=True)
class StepResult:
    """What an earlier step of the same firing gives `steps[i]` (or `steps.<name>`)."""

    index: int
    name: str | None
    action: str
    fields: Mapping[str, Any]


@dataclass(frozen=True)
class Finding:
    """One wrong name: the message, the word to point at, and its occurrence in the template."""

    message: str
    word: str
    occurrence: int = 0


Chain = tuple[str | int, ...]


def check_template(source: str, contexts: Sequence[TriggerContext],
                   steps: Sequence[StepResult] = (), step: int | None = None) -> list[Finding]:
    """Every wrong name in `source` for a rule firing on any of `contexts`.

    `steps` are the earlier steps of the same firing (for a `do` entry; empty for conditions),
    `step` the index of the step the template belongs to. A template that does not parse gives
    no findings: its syntax error is reported on its own.
    """
    try:
        tree = templating.parse(source)
    except (jinja2.TemplateSyntaxError, jinja2.exceptions.SecurityError, RecursionError):
        return []  # `check_syntax` reports it
    local = {n.name for n in tree.find_all(nodes.Name) if n.ctx in ("store", "param")}
    local |= {n.name for n in tree.find_all(nodes.Macro)}
    skip = local | _JINJA_NAMES | set(templating.global_names())
    chains, guarded = _references(tree)
    findings: list[Finding] = []
    for chain, lineno in chains:
        if chain[0] in skip or any(chain[:len(g)] == g for g in guarded):
            continue
        found = _check_chain(chain, contexts, steps, step)
        if found is not None and found not in (f.message for f in findings):
            word = str(found_word(chain, found))
            findings.append(Finding(found, word, _occurrence(source, word, lineno)))
    return findings


def found_word(chain: Chain, message: str) -> str | int:
    """The part of the chain the message is about (the first quoted name it names)."""
    for part in reversed(chain):
        if any(f"{a}{part}{b}" in message for a in "'." for b in "'.") or f"[{part}]" in message:
            return part
    return chain[0]


def _references(tree: nodes.Template) -> tuple[list[tuple[Chain, int]], list[Chain]]:
    """Every maximal name chain (`job.resources.walltime`) with its template line, and the
    chains guarded by `is defined` or `| default`."""
    chains: list[tuple[Chain, int]] = []
    guarded: list[Chain] = []
    inner: set[int] = set()

    def visit(node: nodes.Node) -> None:
        if (isinstance(node, nodes.Test) and node.name in _GUARD_TESTS) or (
                isinstance(node, nodes.Filter) and node.name in _GUARD_FILTERS):
            chain = _chain(node.node) if node.node is not None else None
            if chain:
                guarded.append(chain)
        if isinstance(node, nodes.Getattr | nodes.Getitem | nodes.Name) and id(node) not in inner:
            chain = _chain(node)
            if chain:
                chains.append((chain, node.lineno))
                inner.update(id(n) for n in _chain_nodes(node))
        for child in node.iter_child_nodes():
            visit(child)

    visit(tree)
    return chains, guarded


def _chain(node: nodes.Node) -> Chain | None:
    parts: list[str | int] = []
    while True:
        if isinstance(node, nodes.Getattr):
            parts.append(node.attr)
            node = node.node
        elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const) \
                and isinstance(node.arg.value, str | int):
            parts.append(node.arg.value)
            node = node.node
        elif isinstance(node, nodes.Name) and node.ctx == "load":
            return (node.name, *reversed(parts))
        else:
            return None


def _chain_nodes(node: nodes.Node) -> Iterator[nodes.Node]:
    while isinstance(node, nodes.Getattr | nodes.Getitem):
        yield node
        node = node.node
    yield node


def _check_chain(chain: Chain, contexts: Sequence[TriggerContext],
                 steps: Sequence[StepResult], step: int | None) -> str | None:
    name = str(chain[0])
    having = [c for c in contexts if name in c.names]
    if not having:
        known = sorted({n for c in contexts for n in c.names})
        return _unknown_name(name, known, contexts)
    lacking = [c.trigger for c in contexts if name not in c.names]
    if lacking:
        givers = ", ".join(sorted({c.trigger for c in having}))
        return (f"'{name}' is not defined when a {'/'.join(lacking)} trigger fires (only "
                f"{givers} gives it; guard it with '{name} is defined')")
    if name == "steps":
        return _check_steps(chain, steps, step)
    for context in contexts:  # the first trigger whose shape has no such attribute
        message = _walk(name, context.names[name], chain[1:])
        if message:
            return message
    return None


def _unknown_name(name: str, known: list[str], contexts: Sequence[TriggerContext]) -> str:
    message = f"unknown template variable '{name}'"
    if all(c.trigger == "digest" for c in contexts):
        return (message + " in a digest template (rendered once for the whole group, over "
                "rule, now and digest; put per-firing values in 'item')"
                + did_you_mean(name, known))
    owners = [kind for kind, (var, _) in SUBJECT_VARIABLES.items() if var == name]
    if owners:
        triggers = "/".join(sorted({c.trigger for c in contexts}))
        gives = [v for c in contexts for v, _ in SUBJECT_VARIABLES.values() if v in c.names]
        also = f"; this rule's trigger gives '{gives[0]}'" if gives else ""
        return (f"'{name}' is not defined for {triggers} triggers (only {owners[0]} gives it"
                f"{also})")
    return message + did_you_mean(name, known)


def _walk(prefix: str, shape: Any, rest: Chain) -> str | None:
    path = prefix
    for part in rest:
        if shape is ANY or isinstance(part, int):
            return None
        if part not in shape:
            if part in _MAPPING_METHODS:
                return None
            return f"'{path}' has no attribute '{part}'" + _suggest(path, shape, part)
        path, shape = f"{path}.{part}", shape[part]
    return None


# What people write for an attribute, from qstat's names or other tools: what it is here.
_ALIASES = {
    "Resource_List": "resources", "resources_used": "used", "exit_code": "exit_status",
    "Exit_status": "exit_status", "job_state": "state", "Job_Name": "name", "job_name": "name",
    "Job_Owner": "owner", "user": "owner", "job_id": "id", "jobid": "id", "Variable_List":
    "variables", "Submit_arguments": "submit_arguments", "task": "task_id", "id": "task_id",
    "used_pct": "used_percent", "percent": "used_percent",
}


def _suggest(path: str, shape: Mapping[str, Any], part: str | int) -> str:
    text = str(part)
    if shape is JOB and text in _RESOURCE_HINTS:
        return f" (did you mean '{path}.resources.{text}'?)"
    if shape is WORKFLOW and text in _WORKFLOW_RENAMED:
        return f" (did you mean '{path}.{_WORKFLOW_RENAMED[text]}'? it was renamed)"
    if _ALIASES.get(text) in shape:
        return f" (did you mean '{_ALIASES[text]}'?)"
    hint = did_you_mean(text, list(shape))
    if hint:
        return hint
    return f" (it has: {', '.join(sorted(shape))})" if len(shape) <= 12 else ""


def _check_steps(chain: Chain, steps: Sequence[StepResult], step: int | None) -> str | None:
    if step is None:
        return "'steps' is only defined in actions (the results of a firing's earlier steps)"
    if len(chain) < 2:
        return None
    ref = chain[1]
    earlier = [s for s in steps if s.index < step]
    if isinstance(ref, int):
        if ref < 0 or ref >= step:
            ran = (f"steps[0] to steps[{step - 1}] run before it" if step > 1 else
                   "only steps[0] runs before it" if step else "it is the first step")
            return f"'steps[{ref}]' is not an earlier step of this firing ({ran})"
        target = earlier[ref]
    else:
        named = {s.name: s for s in earlier if s.name}
        if ref not in named:
            this = next((s for s in steps if s.index == step), None)
            later = " (that is this step)" if this is not None and this.name == ref else (
                " (it runs later)" if ref in _later_names(steps, step) else "")
            return (f"'steps.{ref}' is not an earlier named step of this firing" + later
                    + did_you_mean(ref, list(named)))
        target = named[ref]
    label = f"steps[{target.index}]" if isinstance(ref, int) else f"steps.{ref}"
    return _walk(label, target.fields, chain[2:])


def _later_names(steps: Sequence[StepResult], step: int) -> set[str]:
    return {s.name for s in steps if s.name and s.index >= step}


def _occurrence(source: str, word: str, lineno: int) -> int:
    """How many times `word` occurs in the template before its line `lineno`."""
    before = "\n".join(source.splitlines()[:max(lineno - 1, 0)])
    return len(word_matches(word, before))


def word_matches(word: str, text: str) -> list[re.Match[str]]:
    """Where `word` occurs in `text` as a whole word (not `id` inside `job_id`)."""
    return list(re.finditer(rf"(?<![A-Za-z0-9_]){re.escape(word)}(?![A-Za-z0-9_])", text))
