"""`pbs_job`: a PBS job enters a state, substate or exit status.

```yaml
when: {pbs_job: {name: "sim-*", owner: me, state: F, exit_status: "!= 0"}}
when: {pbs_job: {id: 1234.server, state: R, from: {state: H}}}   # released and started
when: {pbs_job: {name: "sim-*", vanished: true}}                 # gone from qstat
```

Selectors pick jobs by identity: `id` (exact; `1234` matches `1234.<any server>`), `name`,
`queue`, `owner` (`me` is the user watcher runs as), `variables` (`{KEY: glob}` on
`Variable_List`). Levels say what the job must enter: `state` (letters, or a list), `substate`,
`exit_status`, all value matchers. The rule fires when a selected job's levels become true;
`from:` further requires the job's attributes *before* the change to match, and
`vanished: true` fires when the job disappears (levels then apply to its last known attributes).
"""

from __future__ import annotations

import getpass
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    Field,
    PlainSerializer,
    PlainValidator,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from watcher.events import PBS_JOB, VANISHED, Event
from watcher.lang.errors import expected_one_of
from watcher.lang.matchers import MATCHER_JSON_SCHEMA, Matcher, MatcherField, parse_matcher
from watcher.pbs.meanings import STATES
from watcher.pbs.snapshot import JobSnapshot
from watcher.triggers.base import TriggerConfig, TriggerType


@dataclass(frozen=True)
class CurrentUser(Matcher):
    """`owner: me`: the user watcher runs as, looked up when matching."""

    def matches(self, value: Any) -> bool:
        """Compared with `getpass.getuser()` at each call, not once at load."""
        return value == getpass.getuser()

    def __str__(self) -> str:
        return "me"


def _owner(raw: Any) -> Matcher:
    return CurrentUser() if raw == "me" else parse_matcher(raw)


def _known_states(matcher: Matcher) -> Matcher:
    for value in matcher.values():
        if str(value) not in STATES:
            raise ValueError(expected_one_of(STATES, value))
    return matcher


def _whole_numbers(matcher: Matcher) -> Matcher:
    """Exit statuses and substates are integers: `exit_status: 1.5` can never match."""
    for value in matcher.values():
        if value is None:
            continue
        number = value if isinstance(value, int | float) and not isinstance(value, bool) else (
            _as_number(value))
        if number is None or not float(number).is_integer():
            raise ValueError(f"expected a whole number but got {value!r}")
    return matcher


def _as_number(value: Any) -> float | None:
    try:
        return float(str(value).strip())
    except ValueError:
        return None


_Owner = Annotated[Matcher, PlainValidator(_owner), PlainSerializer(str, return_type=str),
                   WithJsonSchema(MATCHER_JSON_SCHEMA)]
_State = Annotated[MatcherField, AfterValidator(_known_states)]
_Whole = Annotated[MatcherField, AfterValidator(_whole_numbers)]
_JobId = Annotated[str, WithJsonSchema({"type": ["string", "integer"]})]  # `id: 1234` is fine
_LEVELS = ("state", "substate", "exit_status")


class FromConfig(TriggerConfig):
    """What the job's attributes were before the change."""

    state: _State | None = None
    substate: _Whole | None = None
    exit_status: _Whole | None = None


class PbsJobConfig(TriggerConfig):
    """Which jobs (selectors) entering which condition (levels) fire the rule."""

    id: _JobId | None = None
    name: MatcherField | None = None
    queue: MatcherField | None = None
    owner: _Owner | None = None
    variables: dict[str, MatcherField] = Field(default_factory=dict)
    state: _State | None = None
    substate: _Whole | None = None
    exit_status: _Whole | None = None
    from_: FromConfig | None = Field(default=None, alias="from")
    vanished: bool = False

    @field_validator("id", mode="before")
    @classmethod
    def _id_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @model_validator(mode="after")
    def _vanished_or_from(self) -> PbsJobConfig:
        if self.vanished and self.from_ is not None:
            raise ValueError("at most one of 'vanished' and 'from': with 'vanished' the levels "
                             "already apply to the job's last known attributes")
        return self


def _levels_hold(levels: FromConfig | PbsJobConfig, attrs: Mapping[str, Any]) -> bool:
    for name in _LEVELS:
        matcher = getattr(levels, name)
        if matcher is not None and not matcher.matches(attrs.get(name)):
            return False
    return True


def _same_job(wanted: str, actual: Any) -> bool:
    actual = str(actual)
    return actual == wanted or ("." not in wanted and actual.split(".", 1)[0] == wanted)


class PbsJobTrigger(TriggerType):
    """A PBS job enters a state, substate or exit status (or vanishes)."""

    name = "pbs_job"
    summary = "a PBS job enters a state, substate or exit status"
    Config = PbsJobConfig
    event_kinds = frozenset({PBS_JOB})
    attributes = frozenset(JobSnapshot("", "", "", "", "").attributes())

    def subject_key(self, config: PbsJobConfig) -> str | None:
        # A short id (`1234`) matches any server suffix, so it cannot be an exact index key.
        """A full job id (`1234.server`) only: a short id matches every server suffix."""
        return config.id if config.id and "." in config.id else None

    def selects(self, config: PbsJobConfig, attrs: Mapping[str, Any]) -> bool:
        """Id (short or full), name, queue, owner and `variables:` matchers, each when given."""
        if config.id is not None and not _same_job(config.id, attrs.get("id")):
            return False
        for field in ("name", "queue", "owner"):
            matcher = getattr(config, field)
            if matcher is not None and not matcher.matches(attrs.get(field)):
                return False
        variables = attrs.get("variables") or {}
        return all(key in variables and matcher.matches(variables[key])
                   for key, matcher in config.variables.items())

    def holds(self, config: PbsJobConfig, attrs: Mapping[str, Any] | None) -> bool:
        """State, substate, exit status and the other levels the rule gives all hold."""
        return attrs is not None and _levels_hold(config, attrs)

    def matches_transition(self, config: PbsJobConfig, event: Event) -> bool:
        """An entry into the levels; with `vanished: true`, the job leaving qstat from them."""
        if event.kind not in self.event_kinds:
            return False
        previous = event.previous
        if config.vanished:
            return (event.change == VANISHED and previous is not None
                    and self.selects(config, previous) and _levels_hold(config, previous))
        if not super().matches_transition(config, event):
            return False
        return config.from_ is None or (previous is not None
                                        and _levels_hold(config.from_, previous))
