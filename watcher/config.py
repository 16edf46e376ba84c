"""The watcher's own settings file (`<config>/config.yaml`), separate from rule files.

Every section has defaults, so no file at all is a valid configuration. Unknown keys are errors.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_serializer,
    field_validator,
    model_validator,
)

from watcher import paths
from watcher.globus.settings import GlobusSettings
from watcher.lang.durations import parse_duration
from watcher.mail.settings import SmtpSettings
from watcher.pbs.commands import PbsCommands
from watcher.sources.quota import QuotaSource, QuotaTarget


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PbsSettings(_Section):
    """Where the PBS commands are and how often, and how politely, to poll.

    Sites ask users to run qstat at most once a minute: the interval defaults to 60 s, may not
    go below `min_poll_interval` (15 s; lower it only for a simulator or a test), and each
    period is drawn within `poll_jitter` (a fraction of the interval) so that many users'
    watchers do not poll in step. `discovery` is how jobs are found: `select` (qselect on the
    server, then qstat of the changed ids only; see `watcher.sources.pbs_select`) or `listing`
    (one `qstat -f -F json -x` of every job the server shows, the cost of the whole server).
    """

    bin_dir: Path | None = None
    commands: dict[str, str] = Field(default_factory=dict)
    poll_interval: float = Field(default=60.0, gt=0)
    min_poll_interval: float = Field(default=15.0, ge=0)
    poll_jitter: float = Field(default=0.1, ge=0, le=0.5)
    command_timeout: float = 60.0
    # Failed polls in a row before a `source_down` event.
    down_after: int = 3
    # Which jobs are watched: "mine" (the user's own) or "all" jobs qstat shows.
    watch: Literal["mine", "all"] = "mine"
    discovery: Literal["select", "listing"] = "select"
    # How far the PBS server's clock may be behind this host's (qselect -t compares on the
    # server with a time converted here); widened by itself when a change is found missed.
    clock_skew_margin: float = Field(default=120.0, ge=0)
    # Job ids per `qstat -f -F json -x <ids>` call: a bounded argument list.
    qstat_batch: int = Field(default=100, ge=1, le=1000)
    # Every this many polls the user's unfinished jobs are read whatever their mtime.
    full_every: int = Field(default=60, ge=1)

    @model_validator(mode="after")
    def _above_floor(self) -> PbsSettings:
        if self.poll_interval < self.min_poll_interval:
            raise ValueError(below_floor("pbs.poll_interval", self.poll_interval,
                                         self.min_poll_interval))
        return self

    def commands_runner(self) -> PbsCommands:
        """A PbsCommands that runs PBS from `bin_dir` (or PATH) with the configured overrides."""
        return PbsCommands(self.bin_dir, dict(self.commands), self.command_timeout)


def below_floor(what: str, interval: float, floor: float) -> str:
    """The error for a PBS poll interval under `pbs.min_poll_interval`."""
    return (f"{what} {interval:g} s is below pbs.min_poll_interval ({floor:g} s): sites ask "
            f"for at most one qstat a minute; raise the interval, or lower "
            f"pbs.min_poll_interval for a simulator")


# The floors of `store.lease` and `store.heartbeat`: a lease renewed more often than every
# second costs the database for nothing, and one shorter than 5 s is lost to a slow disk or a
# garbage-collection pause while its action still runs.
MIN_HEARTBEAT = timedelta(seconds=1)
MIN_LEASE = timedelta(seconds=5)


class StoreSettings(_Section):
    """The database, how long history is kept, and how instances hold their work.

    An instance claims an action for `lease` and renews the claim every `heartbeat` while the
    action runs, so a long transfer submission keeps it; when an instance dies its claims are
    free within `lease` (at once when the instance that finds them can tell it is gone).
    """

    url: str = Field(default_factory=paths.default_db_url)
    # How long finished history (events, firings, done intents) is kept; null keeps it all.
    retention: timedelta | None = timedelta(days=30)
    lease: timedelta = timedelta(seconds=30)
    heartbeat: timedelta = timedelta(seconds=10)

    @field_validator("retention", mode="before")
    @classmethod
    def _duration(cls, value: object) -> timedelta | None:
        return None if value is None else parse_duration(value)

    @field_validator("lease", "heartbeat", mode="before")
    @classmethod
    def _required_duration(cls, value: object) -> timedelta:
        return parse_duration(value)

    @field_validator("heartbeat")
    @classmethod
    def _heartbeat_floor(cls, value: timedelta) -> timedelta:
        if value < MIN_HEARTBEAT:
            raise ValueError(f"must be at least {MIN_HEARTBEAT.total_seconds():g}s")
        return value

    @field_validator("lease")
    @classmethod
    def _lease_floor(cls, value: timedelta) -> timedelta:
        if value < MIN_LEASE:
            raise ValueError(f"must be at least {MIN_LEASE.total_seconds():g}s")
        return value

    @model_validator(mode="after")
    def _three_heartbeats_per_lease(self) -> StoreSettings:
        # Two heartbeats may be late (a stalled disk) before a live instance loses a claim.
        if self.lease < 3 * self.heartbeat:
            raise ValueError(
                f"lease ({self.lease.total_seconds():g}s) must be at least three heartbeats "
                f"({3 * self.heartbeat.total_seconds():g}s)")
        return self

    @field_serializer("retention")
    def _seconds(self, value: timedelta | None) -> float | None:
        return None if value is None else value.total_seconds()  # read back by parse_duration

    @field_serializer("lease", "heartbeat")
    def _lease_seconds(self, value: timedelta) -> float:
        return value.total_seconds()


class QuotaSettings(_Section):
    """Paths whose fullness the `quota` source watches (see `watcher.sources.quota`)."""

    paths: list[QuotaTarget] = Field(default_factory=list)
    # Usage moves slowly and `lfs quota` asks every quota server: no need to ask often.
    poll_interval: float = Field(default=300.0, gt=0)
    command_timeout: float = Field(default=60.0, gt=0)
    # Failed polls in a row before a `source_down` event for "quota".
    down_after: int = 3

    @field_validator("paths")
    @classmethod
    def _unique(cls, paths: list[QuotaTarget]) -> list[QuotaTarget]:
        seen = [target.subject for target in paths]
        twice = sorted({subject for subject in seen if seen.count(subject) > 1})
        if twice:
            raise ValueError(f"path '{twice[0]}' is listed twice")
        return paths

    def source(self) -> QuotaSource:
        """The source for these paths, paced at `poll_interval` (see `QuotaSource.due`)."""
        source = QuotaSource(self.paths, timeout=self.command_timeout, interval=self.poll_interval)
        source.down_after = self.down_after
        return source


class HttpSettings(_Section):
    """The HTTP face (`watcher run --listen`; `listen` here turns it on): the REST API, the web
    page and `/metrics`.

    Every request needs the token in `token_file` (made 0600 at the first start). A listen
    address other than loopback is refused unless `tls_cert` and `tls_key` are given, or
    `allow_insecure` says the network is trusted: other users of a login node, and anyone on
    its network, could otherwise read the token off the wire.
    """

    listen: str | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    allow_insecure: bool = False
    token_file: Path = Field(default_factory=lambda: paths.data_dir() / "http-token")
    # Largest request body accepted (a workflow spec is a few hundred bytes).
    max_body: int = Field(default=1024 * 1024, ge=1024)

    @field_validator("listen")
    @classmethod
    def _listen(cls, value: str | None) -> str | None:
        if value is not None:
            split_listen(value)
        return value

    @model_validator(mode="after")
    def _tls_pair(self) -> HttpSettings:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert and tls_key go together: give both or neither")
        return self


def split_listen(text: str) -> tuple[str, int]:
    """`HOST:PORT` (`[::1]:8080` for IPv6; port 0 picks a free one) as (host, port)."""
    host, sep, port = text.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"expected HOST:PORT (like 127.0.0.1:8080) but got '{text}'")
    return host, int(port)


class Settings(_Section):
    """The whole settings file."""

    pbs: PbsSettings = Field(default_factory=PbsSettings)
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    globus: GlobusSettings = Field(default_factory=GlobusSettings)
    store: StoreSettings = Field(default_factory=StoreSettings)
    quota: QuotaSettings = Field(default_factory=QuotaSettings)
    http: HttpSettings = Field(default_factory=HttpSettings)
    user_email: str | None = None


class SettingsError(Exception):
    """The settings file is unreadable or invalid; the message names the file and the field."""


def load_settings(path: Path | None = None) -> Settings:
    """Read the settings file (default `<config>/config.yaml`); a missing file means defaults."""
    path = path or paths.config_dir() / "config.yaml"
    if not path.exists():
        return Settings()
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path}: cannot read: {exc}") from exc
    except yaml.YAMLError as exc:
        raise SettingsError(f"{path}: {exc}") from exc
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise SettingsError(f"{path}: {problems}") from exc
