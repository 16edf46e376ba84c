"""A recorded timeline: what PBS showed at each moment, and which firings the user expects.

`watcher rules test RULES TIMELINE` replays a timeline file against the rules. The format:

```yaml
start: 2026-01-05T08:00:00Z     # optional; default 2026-01-01T00:00:00Z (a timestamp without
                                #   a zone is UTC)
user: alice                     # optional; the owner of jobs that omit `owner`, and `user.name`
                                #   in templates (default: the user running the command, whom
                                #   a rule's `owner: me` always means, as in `watcher run`)
email: alice@example.org        # optional; `user.email` in templates
down_after: 3                   # optional; failed polls in a row before `source_down` (as in
                                #   config.yaml's pbs.down_after)
until: 2h                       # optional; run the clock on to here after the last step, so
                                #   `for:` windows still open then may fire (default: last step)
steps:
  - at: 0s                      # an offset from `start` (30s, 2m, 1h30m, 01:30:00, seconds)
    jobs:                       #   or a timestamp; steps go forward in time
      12.pbs: {name: stage-in, state: R}
      13.pbs: {name: compute, state: H, variables: {STAGE: "12.pbs"}}
  - at: 40s
    jobs:                       # the whole qstat view at that moment: a job left out is
      12.pbs: {name: stage-in, state: F, exit_status: 0}   # missing, and after two healthy
      13.pbs: {name: compute, state: H}                    # steps in a row it has vanished
  - at: 60s
    pbs: down                   # a failed poll: nothing is known, nothing changes
    error: "qstat: cannot connect to server"   # optional, the failure's message
expect:                         # optional; when present, every action that would run must be
  - {at: 40s, rule: release-compute, subject: 12.pbs, action: qrls, params: {job: "13.pbs"}}
```

Each step is one poll: `jobs:` (a healthy answer; `jobs: {}` is an empty queue) or `pbs: down`.
A job's attributes default to: `name` STDIN, `owner` the timeline's user, `queue` workq,
`state` Q, `substate` the usual one for the state (Q 10, H 20, W 30, R 42, S 43, E 50, F 92),
`exit_status` null, `hold_types` u for a held job and n otherwise, `comment` "", `run_count`
0, `depend` "", `submit_arguments` "", `variables` {} (values are strings, as qstat's are),
`resources` and `used` {} (Resource_List and resources_used: `{walltime: "01:00:00"}`; `used`
counts once the job has ended, as with the PBS source).

Expectations match the actions that would run, one expectation per action: `rule` is
required; `at`, `subject`, `action` and `params` (a subset of the rendered parameters) narrow
it down. With `expect:` present, an action no expectation matches is a mismatch too, so
`expect: []` says that nothing fires.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from watcher.lang.durations import format_duration

DEFAULT_START = datetime(2026, 1, 1, tzinfo=UTC)
DEFAULT_DOWN_AFTER = 3


@dataclass(frozen=True)
class Step:
    """One poll of PBS at `at`: `jobs` (id -> attributes as a source reports them) when it
    answered, None when it was down (`error` says why)."""

    at: datetime
    line: int | None
    jobs: dict[str, dict[str, Any]] | None
    error: str | None = None

    @property
    def healthy(self) -> bool:
        """Whether PBS answered at this step."""
        return self.jobs is not None


@dataclass(frozen=True)
class Expectation:
    """An action the user expects to run; None fields match anything."""

    rule: str
    line: int | None = None
    at: datetime | None = None
    subject: str | None = None
    action: str | None = None
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Timeline:
    """A whole timeline file, validated, with every time made absolute."""

    path: Path
    start: datetime
    user: str
    steps: list[Step]
    until: datetime
    email: str | None = None
    down_after: int = DEFAULT_DOWN_AFTER
    # None: the file has no `expect:`, nothing to compare; [] expects no action at all.
    expect: list[Expectation] | None = None

    def offset(self, at: datetime) -> str:
        """`at` as users wrote it: `+40s`, `+1h30m`, `-5s`."""
        return offset_text(at - self.start)


def offset_text(delta: timedelta) -> str:
    """A signed offset like "+5m" or "-1h30m", as timelines write them."""
    sign = "-" if delta < timedelta(0) else "+"
    return sign + format_duration(abs(delta))
