"""The benchmark's world: the PBS simulator, the Globus emulator and the watcher wired on them.

Shared by the three parts of `facility.py`. Nothing here is a mock: PBS is the simulator's
shims behind a counting wrapper, Globus is the emulator over HTTP with the real SDK, the store
is SQLite in a temporary directory.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import globus_sdk
from globus_sdk.token_storage import TokenStorageData

from watcher.config import GlobusSettings, PbsSettings, Settings, StoreSettings
from watcher.globus.tokens import TRANSFER_RS, TokenFile
from watcher.service.service import Service
from watcher.sim.globus.admin_client import AdminClient
from watcher.sim.globus.daemon import start_daemon, stop_daemon
from watcher.sim.pbs import model, store
from watcher.sim.pbs.call_log import PbsCallLog
from watcher.sim.pbs.testing import PbsSim
from watcher.store.db import open_store
from watcher.store.watch import watch

__all__ = ["PbsCallLog"]  # re-exported: the parts import it from here

USER = "alice"  # the Globus identity whose tasks the watcher follows
MODELLED_ROUND = 10.0  # seconds between two polls of a hand-made monitor job


def watcher_settings(tmp: Path, pbs_bin: Path, globus: GlobusSettings | None = None,
                     poll_interval: float = 30.0,
                     discovery: Literal["select", "listing"] = "listing") -> Settings:
    """Issue 8's parts measure the full listing (one qstat a cycle); the facility part
    (`_pbs_facility.py`) sets `discovery` to compare it with qselect."""
    return Settings(pbs=PbsSettings(bin_dir=pbs_bin, poll_interval=poll_interval,
                                    min_poll_interval=0, down_after=3, discovery=discovery),
                    store=StoreSettings(url=f"sqlite:///{tmp / 'watcher.db'}"),
                    globus=globus or GlobusSettings(enabled=False))


def globus_settings(tmp: Path, client_id: str, *, chunk: int, endpoint_interval: float
                    ) -> GlobusSettings:
    """The watcher polls Globus on every cycle (poll_interval 0): the cycle is the cadence.

    The targets are about the watched ids (ceil(N/chunk) requests), so the own-task listing is
    off: on, it adds one paged request a poll and answers the live watched tasks itself."""
    return GlobusSettings(client_id=client_id, token_db=tmp / "tokens.db", poll_interval=0,
                          endpoint_interval=endpoint_interval, chunk=chunk, own_tasks=False,
                          request_timeout=60, max_sleep=0.5)


def log_in(token_db: Path, issued: dict[str, Any]) -> None:
    """Store tokens for the watcher, as `watcher login` would."""
    TokenFile(token_db).store_data(TokenStorageData(
        resource_server=TRANSFER_RS, identity_id=issued["identity_id"], scope=issued["scope"],
        access_token=issued["access_token"], refresh_token=issued["refresh_token"],
        expires_at_seconds=issued["expires_at_seconds"], token_type="Bearer"))


@contextmanager
def watching_service(tmp: Path, pbs_bin: Path, gs: GlobusSettings, issued: dict[str, Any],
                     tasks: Iterable[str], rules_dir: Path) -> Iterator[Service]:
    """A Service on a fresh store, logged in with `issued` and watching `tasks`: a user's
    watcher after `watcher login` and the stage-ins were submitted."""
    log_in(gs.token_db, issued)
    settings = watcher_settings(tmp, pbs_bin, gs)
    store = open_store(settings.store.url)
    try:
        with store.session() as session:
            for task in tasks:
                watch(session, "globus", task, by="benchmark")
        yield Service(settings, store, [rules_dir])
    finally:
        store.close()


def transfer_client(access_token: str, base_url: str | None = None
                    ) -> globus_sdk.TransferClient:
    """A client with a plain access token: no refreshes, so it adds no Auth requests."""
    return globus_sdk.TransferClient(authorizer=globus_sdk.AccessTokenAuthorizer(access_token),
                                     base_url=base_url)


def submit_tasks(access_token: str, src: str, dst: str, count: int, label: str) -> list[str]:
    """`count` one-file transfers of `/~/f`; the submission id is made here (one request
    each), four at a time, one client per thread (setup only, for speed)."""
    local = threading.local()

    def submit(i: int) -> str:
        if not hasattr(local, "client"):
            local.client = transfer_client(access_token)
        data = globus_sdk.TransferData(src, dst, label=f"{label}-{i}",
                                       submission_id=str(uuid.uuid4()))
        data.add_item("/~/f", f"/~/{label}-{i}")
        return str(local.client.submit_transfer(data)["task_id"])

    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(submit, range(count)))


def held_jobs(sim: PbsSim, count: int, workdir: Path, name: str) -> list[str]:
    """`count` held jobs that stay held after `qrls` (a dependency on a job that never runs),
    so releasing them starts no process. Copies are inserted through the simulator's store,
    as `pbs_qstat.py` does: `count` qsub calls would take minutes."""
    blocker = sim.qsub("exit 0\n", "-h", "-N", "blocker", cwd=workdir)
    first = sim.qsub("exit 0\n", "-h", "-N", f"{name}-0", "-W", f"depend=afterok:{blocker}",
                     cwd=workdir)
    conn = store.connect(sim.paths.db)
    try:
        template = model.load(conn, int(first.partition(".")[0]))
        assert template is not None
        ids = [first]
        with store.transaction(conn):
            for i in range(1, count):
                template.seq = store.next_seq(conn)
                template.attrs["Job_Name"] = f"{name}-{i}"
                model.insert(conn, template)
                ids.append(template.jobid)
    finally:
        conn.close()
    return ids[:count]


def write_rules(rules_dir: Path, rules: Iterable[str]) -> Path:
    rules_dir.mkdir(parents=True, exist_ok=True)
    path = rules_dir / "bench.yaml"
    path.write_text("rules:\n" + "".join(rules))
    return path


def release_rule(name: str, task_id: str, job_id: str) -> str:
    """A staged workflow's rule: release the compute job when its stage-in succeeds."""
    return (f"  - name: {name}\n"
            f"    when: {{globus_task: {{task: {task_id}, status: SUCCEEDED}}}}\n"
            f"    do: [{{qrls: {{job: \"{job_id}\"}}}}]\n")


@contextmanager
def globus_daemon(home: Path) -> Iterator[AdminClient]:
    """The emulator in its own process, stopped on the way out whatever happened."""
    url = start_daemon(home, bandwidth=1e-3)  # tasks stay ACTIVE: nothing moves
    try:
        use_emulator({"GLOBUS_SDK_SERVICE_URL_TRANSFER": url,
                      "GLOBUS_SDK_SERVICE_URL_AUTH": url})
        yield AdminClient(url, timeout=120)
    finally:
        stop_daemon(home)


def use_emulator(env: dict[str, str]) -> None:
    """Point globus-sdk at the emulator (the SDK reads these variables itself)."""
    os.environ.update(env)
