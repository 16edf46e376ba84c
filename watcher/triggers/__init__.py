"""Trigger types. The YAML key, the registry key and the module name are one word, but for the
two `source` triggers (which share `source.py`) and `credentials_expired` (`credentials.py`);
the schema and the loader read this dict."""

from __future__ import annotations

from watcher.triggers.action_failed import ActionFailedTrigger
from watcher.triggers.base import TriggerType
from watcher.triggers.consent_required import ConsentRequiredTrigger
from watcher.triggers.credentials import CredentialsExpiredTrigger
from watcher.triggers.globus_endpoint import GlobusEndpointTrigger
from watcher.triggers.globus_task import GlobusTaskTrigger
from watcher.triggers.pbs_job import PbsJobTrigger
from watcher.triggers.quota import QuotaTrigger
from watcher.triggers.rules_invalid import RulesInvalidTrigger
from watcher.triggers.source import SourceDownTrigger, SourceUpTrigger

TRIGGERS: dict[str, TriggerType] = {
    trigger.name: trigger
    for trigger in (PbsJobTrigger(), SourceDownTrigger(), SourceUpTrigger(), QuotaTrigger(),
                    GlobusTaskTrigger(), GlobusEndpointTrigger(), ConsentRequiredTrigger(),
                    CredentialsExpiredTrigger(), ActionFailedTrigger(), RulesInvalidTrigger())
}
