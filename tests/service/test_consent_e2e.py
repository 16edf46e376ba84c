"""Consents end to end: a stage-out collection that needs the user's data_access consent.

The archive is a GCSv5 mapped collection that refuses users without its data_access consent.
`watcher stage submit` asks it first and refuses with the one command to run; after that
login the same workflow runs to completion. A consent lost later is a `consent_required`
event whose mail carries the command.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.globus._world import Globus
from tests.globus.test_login import browser
from tests.workflows import _staging
from tests.workflows._staging import Staging
from watcher.globus.login import finish_login, start_login
from watcher.globus.tokens import TokenFile

FIXTURES = _staging.FIXTURES
emu, globus, sim, make_service, sink, settings, world = FIXTURES


def log_in(globus: Globus, *collections: str) -> None:
    """`watcher login --collection ...`, approved by the emulator."""
    tokens = TokenFile(globus.settings.token_db)
    flow = start_login(globus.settings.client_id, collections)
    finish_login(flow, browser(flow.url), tokens)


def test_a_stage_out_lacking_consent_is_refused_with_the_login_command_then_runs(
        world: Staging, tmp_path: Path) -> None:
    archive = world.globus.emu.add_endpoint(tmp_path / "archive", display_name="archive",
                                            requires_consent=True)
    log_in(world.globus)
    args = ["stage", "submit", "--json", "--stage-in", f"{world.src}:/in/",
            f"{world.dst}:/run/in/", "--stage-out", f"{world.dst}:/run/out/",
            f"{archive}:/results/", "compute.sh"]
    refused = world.cli(*args)
    assert refused.exit_code == 1
    assert f"run `watcher login --collection {archive}`" in refused.output
    assert "workflow" not in refused.stdout  # nothing was recorded or submitted
    assert world.globus.emu.tasks() == []
    status = json.loads(world.cli("status", "--json").stdout)
    assert status["credentials"][0]["missing_consents"] == [archive]

    log_in(world.globus, archive)  # the command the refusal named
    done = world.cli(*args)
    assert done.exit_code == 0, done.output
    workflow_id = json.loads(done.stdout)["workflow"]
    world.cycle_until(lambda: world.workflow(workflow_id).step == "done", timeout=30)
    assert (tmp_path / "archive" / "results" / "result.txt").read_text() == "HELLO STAGING\n"
    status = json.loads(world.cli("status", "--json").stdout)
    assert status["credentials"][0]["missing_consents"] == []


def test_a_consent_lost_later_is_a_consent_required_event_with_the_command(
        world: Staging, make_service) -> None:
    service = make_service("""
rules:
  - name: tell-consent
    when: consent_required
    do:
      - email: {to: "{{ user.email }}", subject: "consent {{ event.subject }}",
                body: "Run: {{ event.attrs.login_command }}"}
""")
    world.globus.emu.set_bandwidth(100)
    (world.globus.src_dir / "big").write_bytes(b"x" * 100_000)
    task_id = world.globus.submit(size=100_000, label="mine")
    world.globus.emu.wait_task(task_id, "ACTIVE")
    _staging.cycle_until(service, lambda: True)
    world.globus.emu.expire_credentials("alice", world.dst)
    _staging.cycle_until(service, lambda: len(world.sink.messages) >= 1)
    [mail] = world.sink.messages
    assert mail.message["Subject"] == f"consent {world.dst}"
    assert f"Run: watcher login --collection {world.dst}" in mail.message.get_content()
