"""One contract over every action: unknown keys are refused, and a missing service (no SMTP
settings, no Globus client, no store) or a PBS that cannot be reached is an outcome, never an
exception. A new action must add its sample here, or the first test fails."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from watcher.actions import ACTIONS
from watcher.actions.base import ActionContext, Outcome
from watcher.pbs.commands import PbsCommands

TRANSFER = {"source_endpoint": "src", "destination_endpoint": "dst", "source_path": "/a/",
            "destination_path": "/b/", "recursive": True}
SAMPLES = {
    "qrls": {"job": "1.srv"}, "qdel": {"job": "1.srv"}, "qhold": {"job": "1.srv"},
    "email": {"to": "me@example.org", "subject": "s", "body": "b"},
    "resubmit": {"job": "1.srv"},
    "transfer": TRANSFER, "stage_out": TRANSFER,
    "advance_workflow": {"workflow": "wf-1"},
}
# Actions whose service is missing in the context below: that is permanent (not retried).
NEEDS_A_SERVICE = {"email", "transfer", "stage_out", "advance_workflow"}


def test_every_action_has_a_sample():
    assert sorted(SAMPLES) == sorted(ACTIONS)


@pytest.mark.parametrize("name", sorted(ACTIONS))
def test_unknown_keys_are_refused(name: str):
    with pytest.raises(ValidationError, match="extra"):
        ACTIONS[name].params.model_validate({**SAMPLES[name], "no_such_key": 1})


@pytest.mark.parametrize("name", sorted(ACTIONS))
def test_a_missing_service_is_an_outcome_not_an_exception(name: str, tmp_path: Path):
    action = ACTIONS[name]
    pbs = PbsCommands(tmp_path / "no-pbs-here", {}, 5.0)  # every command fails to start
    ctx = ActionContext(pbs, f"rule|{name}|1", "rule", datetime.now(UTC))  # no service at all
    outcome = asyncio.run(action.execute(ctx, action.params.model_validate(SAMPLES[name])))
    assert isinstance(outcome, Outcome) and not outcome.ok
    if name in NEEDS_A_SERVICE:  # Outcome.missing: says which service, and is not retried
        assert not outcome.retryable and outcome.detail.startswith("no "), outcome.detail
