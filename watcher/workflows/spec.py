"""The three-step shape of a staged workflow, as `watcher stage submit`'s options or a file
with `script:` give it (it runs as a graph: `watcher.workflows.three_step`).

```yaml
# wf.yaml, for `watcher stage submit -f wf.yaml`
name: run-42
script: compute.sh                 # relative to the directory you submit from
qsub_args: [-l, walltime=01:00:00]
stage_in:                          # or: stage_in_task: <task id of a transfer you started>
  - {from: "SRC_EP:/data/in/", to: "DST_EP:/scratch/run-42/in/"}
stage_out:
  - {from: "DST_EP:/scratch/run-42/out/", to: "SRC_EP:/data/out/run-42/"}
cleanup: cleanup.sh                # runs when the stage-in or compute failed
email: me@example.org              # default: user_email from config.yaml
walltime_retries: 1                # how often a walltime kill (-29) is resubmitted
walltime_factor: 2                 # each time asking for twice the walltime (default 1)
```

A location is `ENDPOINT_ID:PATH`; a path ending in `/` is a directory (copied recursively).
One transfer has one source and one destination endpoint, so every pair of `stage_in` (and of
`stage_out`) must use the same two endpoints.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from watcher.pbs.submit_args import SubmitArgsError, parse_submit_arguments, set_variables
from watcher.workflows.lifetime import walltime

_ENDPOINT_CHARS = frozenset("0123456789abcdefABCDEF-")
_NAME = re.compile(r"^([A-Za-z0-9][A-Za-z0-9_.-]*)?$")


class Location(BaseModel):
    """`ENDPOINT_ID:PATH`, split."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    endpoint: str = Field(min_length=1)
    path: str = Field(min_length=1)

    @classmethod
    def parse(cls, text: str) -> Location:
        """Parse `ENDPOINT_ID:PATH`; ValueError naming the text if a part is missing or bad."""
        endpoint, sep, path = str(text).partition(":")
        if not sep or not endpoint or not path:
            raise ValueError(f"expected ENDPOINT_ID:PATH but got '{text}'")
        if not set(endpoint) <= _ENDPOINT_CHARS:
            raise ValueError(f"'{endpoint}' is not a Globus endpoint id (a UUID) in '{text}'")
        return cls(endpoint=endpoint, path=path)

    def __str__(self) -> str:
        return f"{self.endpoint}:{self.path}"


class Pair(BaseModel):
    """One item to copy: `from` and `to` locations."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    source: Location = Field(alias="from")
    destination: Location = Field(alias="to")

    @field_validator("source", "destination", mode="before")
    @classmethod
    def _location(cls, value: object) -> object:
        return Location.parse(value) if isinstance(value, str) else value


def check_qsub_options(args: list[str], depend: str) -> None:
    """ValueError unless `args` are qsub options watcher can submit with: no whitespace
    inside one, no `-I`, `-z` or `-h` (watcher holds and releases, and needs the job id), no
    `-W depend` (`depend` says what to use instead), no script or command among them, and a
    command line that can be rebuilt (`-v` entries included)."""
    for before, arg in zip(["", *args], args, strict=False):
        if any(c.isspace() for c in arg):
            raise ValueError(f"a qsub argument cannot hold whitespace: '{arg}'")
        if arg.startswith("-") and arg[1:2] in ("I", "z", "h"):
            raise ValueError(f"'{arg}' cannot be used: the watcher holds and releases the "
                             "job itself and needs qsub to print the job id")
        if (arg.startswith("-W") or before == "-W") and arg.lstrip("-W").startswith("depend"):
            raise ValueError(f"'-W depend' cannot be used: {depend}")
    try:
        parsed = parse_submit_arguments(" ".join(args))
        set_variables(parsed, {"WATCHER_WORKFLOW": "-"})  # -v entries watcher adds to
    except SubmitArgsError as exc:
        raise ValueError(f"not a list of qsub options: {exc}") from exc
    if parsed.script is not None or parsed.command:
        extra = parsed.script if parsed.script is not None else " ".join(parsed.command)
        raise ValueError(f"'{extra}' is not a qsub option (the script is given apart)")


def check_one_pair(pairs: list[Pair], what: str) -> None:
    """ValueError (naming `what`) unless every pair goes between the same two endpoints: one
    Globus transfer has one source and one destination endpoint."""
    ends = {(p.source.endpoint, p.destination.endpoint) for p in pairs}
    if len(ends) > 1:
        raise ValueError(f"every {what} pair must use the same two endpoints (one Globus "
                         f"transfer) but got {len(ends)} endpoint pairs")


class WorkflowSpec(BaseModel):
    """The three-step shape as given (options or a `script:` file); it runs as the graph
    `watcher.workflows.three_step.as_graph` makes of it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(default="", max_length=64)
    script: str = Field(min_length=1)
    qsub_args: list[str] = Field(default_factory=list)
    stage_in: list[Pair] = Field(default_factory=list)
    stage_in_task: str | None = Field(default=None, min_length=1, max_length=64,
                                      pattern=r"^[0-9a-fA-F-]+$")
    stage_out: list[Pair] = Field(default_factory=list)
    cleanup: str | None = Field(default=None, min_length=1)
    email: str | None = Field(default=None, min_length=3)
    walltime_retries: int = Field(default=1, ge=0, le=20)
    walltime_factor: float = Field(default=1.0, ge=1.0, le=10.0)

    @field_validator("name")
    @classmethod
    def _name(cls, name: str) -> str:
        if not _NAME.match(name):  # it becomes the job name (-N), which PBS restricts
            raise ValueError(f"expected letters, digits, '.', '-' and '_' (a letter or digit "
                             f"first) but got '{name}'")
        return name

    @field_validator("qsub_args")
    @classmethod
    def _qsub_args(cls, args: list[str]) -> list[str]:
        check_qsub_options(args, "the watcher releases compute itself once the stage-in is in")
        return args

    @model_validator(mode="after")
    def _one_stage_in(self) -> WorkflowSpec:
        if bool(self.stage_in) == bool(self.stage_in_task):
            raise ValueError("expected exactly one of 'stage_in' (pairs to copy) and "
                             "'stage_in_task' (a transfer already started)")
        for pairs, what in ((self.stage_in, "stage_in"), (self.stage_out, "stage_out")):
            if pairs:
                check_one_pair(pairs, what)
        if self.is_array and (self.walltime_factor > 1 or (
                self.walltime_retries and "walltime_retries" in self.model_fields_set)):
            raise ValueError("an array is not retried on walltime: PBS kills a subjob, not "
                             "the array")
        if self.walltime_factor > 1 and walltime(self.qsub_args) is None:
            raise ValueError("'walltime_factor' needs the walltime among the qsub arguments "
                             "(-l walltime=HH:MM:SS): watcher cannot know the queue's default")
        return self

    @property
    def is_array(self) -> bool:
        """Whether compute is an array job (`-J`)."""
        return any(arg.startswith("-J") for arg in self.qsub_args)
