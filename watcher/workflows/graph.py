"""A workflow of any shape: named steps (Globus transfers, PBS jobs) joined by `after:`.

```yaml
name: run-42
steps:
  inputs-a: {transfer: {from: "EP1:/data/a/", to: "EP2:/scratch/run-42/a/"}}
  inputs-b: {transfer: {from: "EP3:/data/b/", to: "EP2:/scratch/run-42/b/"}, retries: 2}
  prep:     {job: prep.sh, qsub: [-l, walltime=00:20:00], after: [inputs-a, inputs-b]}
  sweep:    {job: sweep.sh, qsub: [-J, 1-50], after: [prep], retries: {walltime: 1}}
  archive:  {transfer: {from: "EP2:/scratch/run-42/out/", to: "EP4:/archive/run-42/"},
             after: [sweep]}
on_failure: {job: cleanup.sh}
email: me@example.org
```

A transfer step is one Globus task: `{from, to}` for one item or `items: [{from, to}, ...]`,
every item between the same two endpoints (another pair is another step), or `{task: ID}`, a
transfer you started yourself, taken as the step as it is (grafted). A job step is a
script (relative to the directory you submit from) and its qsub options; `-J` makes it an
array. `retries` of a transfer is how often a FAILED task is started again as a new task with
the same items; of a job, `{walltime: N, exit_codes: [..], times: M}`: a walltime kill (-29)
is submitted again up to N times (with `walltime_factor: F`, each time asking for F times the
walltime of the run killed), an exit status listed in `exit_codes` up to M times (default 1);
a bare number means `{walltime: N}`. `on_failure` is one step or a mapping of named steps,
started when the workflow has failed; `if_failed: [step, ...]` starts one only when one of those
failed (a cleanup that must not run when only the stage-out failed, say).

This module is pure: the models, and the checks a schema cannot say (names, cycles), each a
`Problem` at a data path so the file reader can give its line and column.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from watcher.lang.errors import DataPath, Problem, did_you_mean
from watcher.workflows.lifetime import walltime
from watcher.workflows.spec import Location, check_qsub_options

STEP_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,47}$")
ON_FAILURE = "on_failure"
MAX_STEPS = 200


def _location(value: object) -> object:
    return Location.parse(value) if isinstance(value, str) else value


class Item(BaseModel):
    """One thing to copy: `from` and `to`, each `ENDPOINT_ID:PATH` (`PATH/`: a directory)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    source: Location = Field(alias="from")
    destination: Location = Field(alias="to")

    @field_validator("source", "destination", mode="before")
    @classmethod
    def _parse(cls, value: object) -> object:
        return _location(value)


class Transfer(BaseModel):
    """One Globus task: a single `from`/`to` or a list of `items` between one endpoint pair,
    or `task`: a transfer you started yourself, taken as the step (grafted, never restarted)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    source: Location | None = Field(default=None, alias="from")
    destination: Location | None = Field(default=None, alias="to")
    items: list[Item] = Field(default_factory=list)
    task: str | None = Field(default=None, min_length=1, max_length=64,
                             pattern=r"^[0-9a-fA-F-]+$",
                             description="a Globus task you started: taken as the step as it is")

    @field_validator("source", "destination", mode="before")
    @classmethod
    def _parse(cls, value: object) -> object:
        return _location(value)

    @model_validator(mode="after")
    def _one_pair(self) -> Transfer:
        single = self.source is not None or self.destination is not None
        if self.task is not None:
            if single or self.items:
                raise ValueError("a grafted transfer ('task') is that task: it takes no "
                                 "'from', 'to' or 'items'")
            return self
        if single and self.items:
            raise ValueError("give either 'from' and 'to' or 'items', not both")
        if single and (self.source is None or self.destination is None):
            raise ValueError("a transfer needs both 'from' and 'to'")
        if not single and not self.items:
            raise ValueError("a transfer needs 'from' and 'to' (or 'items')")
        ends = {(i.source.endpoint, i.destination.endpoint) for i in self.all_items()}
        if len(ends) > 1:
            raise ValueError(f"every item of one transfer must go between the same two "
                             f"endpoints (one Globus task) but got {len(ends)} endpoint "
                             "pairs: make each pair a step of its own")
        return self

    def all_items(self) -> list[Item]:
        """The transfer's pairs as `Item`s: the single `from`/`to` if given, else `items`."""
        if self.source is not None and self.destination is not None:
            return [Item(source=self.source, destination=self.destination)]
        return list(self.items)

    def record(self) -> dict[str, Any]:
        """The stored shape: what `transfer` takes (endpoints and items), or the grafted
        `task`."""
        if self.task is not None:
            return {"task": self.task}
        items = self.all_items()
        return {"source_endpoint": items[0].source.endpoint,
                "destination_endpoint": items[0].destination.endpoint,
                "items": [{"source": i.source.path, "destination": i.destination.path,
                           "recursive": i.source.path.endswith("/")} for i in items]}


class JobRetries(BaseModel):
    """When a job step is submitted again."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    walltime: int = Field(default=0, ge=0, le=20)
    walltime_factor: float = Field(default=1.0, ge=1.0, le=10.0, description=(
        "each walltime retry asks for this many times the walltime of the run killed "
        "(1: the same, for a job that resumes from its checkpoint)"))
    exit_codes: list[int] = Field(default_factory=list)
    times: int = Field(default=1, ge=0, le=20)


class Step(BaseModel):
    """One step: exactly one of `transfer` and `job`, and when it may start."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    transfer: Transfer | None = None
    job: str | None = Field(default=None, min_length=1)
    qsub: list[str] = Field(default_factory=list)
    after: list[str] = Field(default_factory=list)
    retries: int | JobRetries = 0
    if_failed: list[str] = Field(default_factory=list, description=(
        "on_failure steps only: start only if one of these steps failed"))

    @field_validator("after", "if_failed", mode="before")
    @classmethod
    def _after_one(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @field_validator("qsub")
    @classmethod
    def _qsub(cls, args: list[str]) -> list[str]:
        check_qsub_options(args, "give dependencies with 'after:' (the watcher releases the "
                                 "job when they succeeded)")
        return args

    @model_validator(mode="after")
    def _one_kind(self) -> Step:
        if (self.transfer is None) == (self.job is None):
            raise ValueError("a step is exactly one of 'transfer' and 'job'")
        if self.job is not None and self.is_array and self.job_retries().walltime:
            raise ValueError("an array is not retried on walltime: PBS kills a subjob, not "
                             "the array (its exit status is then 2: use exit_codes: [2])")
        if self.job is not None and self.job_retries().walltime_factor > 1 and (
                walltime(self.qsub) is None):
            raise ValueError("'walltime_factor' needs the walltime in 'qsub' (-l "
                             "walltime=HH:MM:SS): watcher cannot know the queue's default")
        if self.transfer is not None:
            if self.qsub:
                raise ValueError("'qsub' is for job steps")
            if isinstance(self.retries, JobRetries):
                raise ValueError("a transfer's 'retries' is a number: how often a FAILED "
                                 "task is started again")
            if self.transfer.task is not None and self.retries:
                raise ValueError("a grafted transfer ('task') cannot be retried: watcher "
                                 "does not know what it copies")
        return self

    @property
    def kind(self) -> str:
        """`transfer` or `job`, the record's `kind`."""
        return "transfer" if self.transfer is not None else "job"

    def job_retries(self) -> JobRetries:
        """The job retries; a bare number means walltime retries only."""
        if isinstance(self.retries, JobRetries):
            return self.retries
        return JobRetries(walltime=self.retries)

    @property
    def is_array(self) -> bool:
        """Whether the qsub options ask for an array job (`-J`)."""
        return any(arg == "-J" or arg.startswith("-J") for arg in self.qsub)

    def record(self) -> dict[str, Any]:
        """The stored shape of the step (JSON): its kind, `after`, and transfer or job details."""
        data: dict[str, Any] = {"kind": self.kind, "after": list(self.after)}
        if self.if_failed:
            data["if_failed"] = list(self.if_failed)
        if self.transfer is not None:
            data["transfer"] = self.transfer.record()
            data["retries"] = int(self.retries) if isinstance(self.retries, int) else 0
        else:
            data.update(script=self.job, qsub=list(self.qsub), array=self.is_array,
                        retries=self.job_retries().model_dump())
        return data


class GraphSpec(BaseModel):
    """A whole workflow file: its steps, what runs when it fails, and who hears of it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    steps: dict[str, Step] = Field(min_length=1, max_length=MAX_STEPS)
    on_failure: Step | dict[str, Step] | None = None
    email: str | None = Field(default=None, min_length=3)

    @field_validator("on_failure", mode="before")
    @classmethod
    def _on_failure(cls, value: object) -> object:
        if isinstance(value, Mapping) and not ({"job", "transfer"} & set(value)):
            return dict(value)  # named steps
        return value

    def failure_steps(self) -> dict[str, Step]:
        """The on_failure steps by name; a single step is named `on_failure`; none gives {}."""
        if self.on_failure is None:
            return {}
        if isinstance(self.on_failure, Step):
            return {ON_FAILURE: self.on_failure}
        return dict(self.on_failure)

    def to_record(self) -> dict[str, Any]:
        """What the workflow record keeps (JSON): `graph` marks a workflow of this engine."""
        return {"graph": True, "name": self.name, "email": self.email,
                "steps": {name: step.record() for name, step in self.steps.items()},
                "on_failure": {name: step.record()
                               for name, step in self.failure_steps().items()}}


def check(spec: GraphSpec) -> list[Problem]:
    """What the models cannot see: step names, `after:` that names nothing or can never be
    satisfied, cycles. Each problem points at the offending entry."""
    problems: list[Problem] = []
    names = set(spec.steps)
    failure = spec.failure_steps()
    for name in [*names, *failure]:
        if not STEP_NAME.match(name):
            where = ("steps", name) if name in spec.steps else ("on_failure", name)
            problems.append(Problem(where, f"step name '{name}' must be letters, digits, "
                                           "'.', '-' and '_' (at most 48)", at_key=True))
    for name in set(failure) & names:
        problems.append(Problem(("on_failure", name), f"'{name}' is already a step of "
                                                      "'steps'", at_key=True))
    for section, steps, known in (("steps", spec.steps, names), ("on_failure", failure,
                                                                 set(failure))):
        if section == "on_failure" and isinstance(spec.on_failure, Step):
            section_path: DataPath = ("on_failure",)
        else:
            section_path = (section,)
        for name, step in steps.items():
            path = section_path if section_path == ("on_failure",) else (*section_path, name)
            for index, dep in enumerate(step.after):
                where = (*path, "after", index)
                if dep == name:
                    problems.append(Problem(where, f"'{name}' cannot come after itself"))
                elif dep not in known:
                    problems.append(Problem(where, _unknown(dep, section, known, names)))
    for name, step in spec.steps.items():
        if step.if_failed:
            problems.append(Problem(("steps", name, "if_failed"), "'if_failed' is for "
                                    "on_failure steps: it names the steps whose failure "
                                    "starts them"))
    for name, step in failure.items():
        path = ("on_failure",) if isinstance(spec.on_failure, Step) else ("on_failure", name)
        for index, dep in enumerate(step.if_failed):
            if dep not in names:
                problems.append(Problem((*path, "if_failed", index),
                                        f"no step '{dep}'{did_you_mean(dep, names)}"))
    problems.extend(_cycles(spec.steps))
    return problems


def _unknown(dep: str, section: str, known: set[str], names: set[str]) -> str:
    if section == "steps" and dep == ON_FAILURE:
        return ("'on_failure' runs only when the workflow failed, so a step after it can "
                "never start")
    if section == "on_failure" and dep in names:
        return (f"'{dep}' is a step of the workflow: an on_failure step starts when the "
                "workflow failed, so it cannot wait for it")
    return f"no step '{dep}'{did_you_mean(dep, known)}"


def _cycles(steps: Mapping[str, Step]) -> list[Problem]:
    """One problem per cycle, at the `after` entry that closes it, naming the loop."""
    problems: list[Problem] = []
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    stack: list[str] = []

    def visit(name: str) -> None:
        state[name] = 1
        stack.append(name)
        for index, dep in enumerate(steps[name].after):
            if dep not in steps or dep == name:
                continue
            if state.get(dep) == 1:
                loop = [*stack[stack.index(dep):], dep]
                problems.append(Problem(("steps", name, "after", index),
                                        "cycle: " + " -> ".join(reversed(loop)) +
                                        " (no step of it can ever start)"))
            elif dep not in state:
                visit(dep)
        stack.pop()
        state[name] = 2

    for name in steps:
        if name not in state:
            visit(name)
    return problems


def order(steps: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Step names so that each comes after its `after:` (ties in file order)."""
    done: list[str] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        if name in seen:
            return
        seen.add(name)
        for dep in steps[name].get("after") or []:
            if dep in steps:
                visit(dep)
        done.append(name)

    for name in steps:
        visit(name)
    return done


def dependants(steps: Mapping[str, Mapping[str, Any]], name: str) -> Iterator[str]:
    """Every step that (transitively) comes after `name`."""
    found: set[str] = set()
    frontier = [name]
    while frontier:
        current = frontier.pop()
        for other, step in steps.items():
            if current in (step.get("after") or []) and other not in found:
                found.add(other)
                frontier.append(other)
    yield from (n for n in steps if n in found)


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of graph workflow files, from the models above.

    It checks shape and names; the reader checks more (`after:` names, cycles, one endpoint
    pair per transfer), so `watcher stage submit` stays the final word."""
    schema = GraphSpec.model_json_schema(by_alias=True, ref_template="#/$defs/{model}")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "watcher graph workflow"
    schema["description"] = (__doc__ or "").split("\n\n", 1)[0]
    location = {"type": "string", "pattern": r"^[0-9a-fA-F-]+:.+$",
                "description": "ENDPOINT_ID:PATH (a path ending in / is a directory)"}
    defs = schema.get("$defs", {})
    defs["Location"] = location
    return schema
