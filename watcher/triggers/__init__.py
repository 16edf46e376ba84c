"""Trigger types. The YAML key, the registry key and (but for the two `source` triggers, which
share `source.py`) the module name are one word; the schema and the loader read this dict."""

from __future__ import annotations

from watcher.triggers.base import TriggerType
from watcher.triggers.pbs_job import PbsJobTrigger
from watcher.triggers.quota import QuotaTrigger
from watcher.triggers.source import SourceDownTrigger, SourceUpTrigger

TRIGGERS: dict[str, TriggerType] = {
    trigger.name: trigger
    for trigger in (PbsJobTrigger(), SourceDownTrigger(), SourceUpTrigger(), QuotaTrigger())
}
