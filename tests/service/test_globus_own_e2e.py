"""End to end: a transfer the user started with globus-cli fires their label rule.

globus-cli 3.43 runs in a subprocess against the emulator, logged in with the
client-credentials grant; the watcher is logged in as the same identity, as a user's laptop
and their watcher would be. Nothing tells the watcher about the task: it finds it by listing
the user's own tasks.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.globus import _world
from tests.globus._world import Globus, stored
from tests.service.conftest import cycle_until
from tests.workflows import _staging
from watcher.mail.sink import SmtpSink

emu, globus = _world.emu, _world.globus  # the Globus world's fixtures
sink, settings = _staging.sink, _staging.settings
GLOBUS = str(Path(sys.executable).parent / "globus")
CLI_CLIENT = str(uuid.UUID(int=0xC12))

RULES = """
rules:
  - name: mydata-failed
    when: {globus_task: {label: "mydata-*", status: FAILED}}
    do: [{email: {to: "{{ user.email }}", subject: "failed {{ event.attrs.label }}"}}]
  - name: mydata-done
    when: {globus_task: {label: ["other", "mydata-*"], status: SUCCEEDED}}
    do: [{email: {to: "{{ user.email }}", subject: "done {{ event.attrs.label }}"}}]
"""


@pytest.fixture
def cli_env(globus: Globus, tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "cli-home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GLOBUS_", "XDG_"))}
    return {**env, **globus.emu.env, "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"), "XDG_DATA_HOME": str(home / ".local"),
            "GLOBUS_CLI_CLIENT_ID": CLI_CLIENT, "GLOBUS_CLI_CLIENT_SECRET": "cli-secret"}


def cli_transfer(env: dict[str, str], src: str, dst: str, label: str) -> str:
    done = subprocess.run([GLOBUS, "transfer", src, dst, "--label", label, "--jq", "task_id",
                           "--format", "UNIX"], env=env, capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_globus_cli_transfer_fires_the_users_label_rules(
        globus: Globus, make_service, sink: SmtpSink, cli_env: dict[str, str]) -> None:
    globus.tokens.store_data(stored(globus.emu.issue_tokens(CLI_CLIENT)))
    service = make_service(RULES)
    (globus.src_dir / "good").write_text("data\n")
    globus.emu.set_bandwidth(100)  # "good" takes 50 ms, "slow" 1000 s
    (globus.src_dir / "slow").write_bytes(b"x" * 100_000)
    good = cli_transfer(cli_env, f"{globus.src}:/good", f"{globus.dst}:/good", "mydata-good")
    slow = cli_transfer(cli_env, f"{globus.src}:/slow", f"{globus.dst}:/slow", "mydata-slow")
    cycle_until(service, lambda: len(sink.messages) >= 1)
    globus.emu.fail_task(slow, "PERMISSION_DENIED", "no")
    cycle_until(service, lambda: len(sink.messages) >= 2)
    cycle_until(service, lambda: True)
    subjects = sorted(m.message["Subject"] for m in sink.messages)
    assert subjects == ["done mydata-good", "failed mydata-slow"], (good, slow)


def test_a_task_watched_after_it_ended_is_announced_again(globus: Globus, make_service) -> None:
    """A transfer grafted into a workflow after the own-task listing saw it end: the
    workflow's rules must still see the end."""
    from sqlmodel import select

    from watcher.events import GLOBUS_TASK
    from watcher.store.models import EventRecord
    from watcher.store.watch import watch

    service = make_service("rules: []\n")
    task_id = globus.submit(size=10, label="by-hand")
    globus.emu.wait_task(task_id, "SUCCEEDED")
    cycle_until(service, lambda: True)

    def changes() -> list[str]:
        with service.store.session(write=False) as s:
            rows = s.exec(select(EventRecord).where(EventRecord.kind == GLOBUS_TASK,
                                                    EventRecord.subject == task_id)).all()
            return [row.change for row in rows]

    assert changes() == ["appeared"]
    with service.store.session() as s:
        watch(s, "globus", task_id, workflow="wf-1", step="stage-in")
    cycle_until(service, lambda: True)
    cycle_until(service, lambda: True)
    assert changes() == ["appeared", "appeared"]
