"""`quota`: a watched path's usage enters a level (a percentage, or over its limit).

```yaml
when: {quota: {path: /lus/eagle/projects/X, used_percent: ">= 90"}}
when: {quota: {path: "/scratch/*", over_limit: true}}
when: {quota: {files_percent: ">= 95"}}          # any watched path
```

`path` picks paths: exact (`~` and a trailing `/` do not matter) or a glob. The levels
`used_percent` and `files_percent` (value matchers) and `over_limit` say what the path must
enter; with none of them (`when: quota`, `{quota: {path: X}}`) it is `over_limit: true`.
The rule fires when a selected path enters them, once per entry; with `for:` only after they
held that long, and usage dropping below the level closes the window. A path with no limit
has a null percentage, which no comparison matches. Paths must be listed in the settings'
`quota.paths` to be watched at all (see `watcher.sources.quota`).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from typing import Any

from pydantic import field_validator

from watcher.events import QUOTA
from watcher.lang.matchers import MatcherField
from watcher.sources.quota_fields import QUOTA_ATTRIBUTES, normalize_path
from watcher.triggers.base import TriggerConfig, TriggerType


def _is_glob(path: str) -> bool:
    return any(c in path for c in "*?[")


class QuotaConfig(TriggerConfig):
    """Which paths (selector) entering which usage levels fire the rule."""

    path: str | None = None
    used_percent: MatcherField | None = None
    files_percent: MatcherField | None = None
    over_limit: bool | None = None

    @field_validator("path")
    @classmethod
    def _normal(cls, value: str | None) -> str | None:
        return None if value is None else normalize_path(value)


class QuotaTrigger(TriggerType):
    """A watched path's usage crosses a threshold or goes over its limit."""

    name = "quota"
    summary = "a watched path's usage crosses a threshold or goes over its limit"
    Config = QuotaConfig
    event_kinds = frozenset({QUOTA})
    attributes = frozenset(QUOTA_ATTRIBUTES)

    def subject_key(self, config: QuotaConfig) -> str | None:
        """The path when the rule names one that is not a glob."""
        return config.path if config.path and not _is_glob(config.path) else None

    def selects(self, config: QuotaConfig, attrs: Mapping[str, Any]) -> bool:
        """`path:` as exact text, or as a glob when it has glob characters."""
        if config.path is None:
            return True
        path = str(attrs.get("path"))
        return fnmatch.fnmatchcase(path, config.path) if _is_glob(config.path) \
            else path == config.path

    def holds(self, config: QuotaConfig, attrs: Mapping[str, Any] | None) -> bool:
        """Every level given holds; with none given, the quota is over its limit."""
        if attrs is None:
            return False
        levels = {"used_percent": config.used_percent, "files_percent": config.files_percent}
        over = config.over_limit
        if over is None and all(m is None for m in levels.values()):
            over = True  # no level given: "over its limit"
        return (all(m.matches(attrs.get(name)) for name, m in levels.items() if m is not None)
                and (over is None or attrs.get("over_limit") is over))
