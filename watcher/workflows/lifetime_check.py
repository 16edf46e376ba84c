"""Gathering what `watcher.workflows.lifetime` compares: the login, the collections' documents,
the stage-in's size and the endpoint pair's recent rate. Blocking (Globus and the store).

Each Globus question is one request (a document, a one-level listing); one that fails leaves
its figure unknown, never fails the submission: these are warnings.
"""

from __future__ import annotations

import sqlite3
import statistics
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import globus_sdk
from sqlmodel import Session, select

from watcher.globus.login_info import LoginInfo, read_login
from watcher.globus.report import REFRESH_UNUSED_LIFETIME
from watcher.globus.settings import GlobusSettings
from watcher.store.models import Snapshot
from watcher.workflows import record
from watcher.workflows.graph import GraphSpec
from watcher.workflows.graph import Transfer as GraphTransfer
from watcher.workflows.graph_plan import ENDED, FAILING, FINAL
from watcher.workflows.lifetime import Lapse, Span, chain_to_last_start, transfer_time, walltime

_ASKED = (globus_sdk.GlobusAPIError, globus_sdk.NetworkError)


def credential_lapses(tc: globus_sdk.TransferClient | None, info: LoginInfo | None,
                      collections: Iterable[str], now: datetime) -> list[Lapse]:
    """When the refresh token and each collection's consent or activation lapse."""
    lapses: list[Lapse] = []
    if info is not None:
        lapses.append(Lapse(
            "the Globus refresh token", info.last_used_at + REFRESH_UNUSED_LIFETIME,
            f"estimated: Globus's ~180 days after its last use, "
            f"{info.last_used_at:%Y-%m-%d %H:%M} UTC, measured",
            "keep `watcher run` running (each refresh renews it) or run `watcher login`"))
    for collection in dict.fromkeys(collections):
        doc = _document(tc, collection)
        if doc is None:
            continue
        name = f"{doc.get('display_name') or collection} ({collection})"
        minutes = doc.get("authentication_timeout_mins")
        if doc.get("high_assurance") and isinstance(minutes, int) and info is not None:
            lapses.append(Lapse(
                f"the consent for high-assurance collection {name}",
                info.logged_in_at + timedelta(minutes=minutes),
                f"measured: its authentication_timeout_mins={minutes} after your login",
                f"run `watcher login --collection {collection}` shortly before the stage-out"))
        expires_in = doc.get("expires_in")
        if isinstance(expires_in, int) and expires_in > 0:
            lapses.append(Lapse(
                f"the activation of endpoint {name}", now + timedelta(seconds=expires_in),
                "measured: its document's expires_in",
                "renew its credentials in the Globus web app before then"))
    return lapses


def recent_rate(session: Session, source: str, destination: str, last: int = 10
                ) -> float | None:
    """Median bytes per second of the last finished transfers from `source` to `destination`
    the watcher saw (their task snapshots), or None."""
    rows = session.exec(select(Snapshot).where(Snapshot.source == "globus")).all()
    rates = []
    for row in rows:
        attrs: dict[str, Any] = row.attrs
        if (attrs.get("status") == "SUCCEEDED" and attrs.get("source_endpoint_id") == source
                and attrs.get("destination_endpoint_id") == destination):
            rate = _rate(attrs)
            if rate:
                rates.append((str(attrs.get("completion_time")), rate))
    recent = [rate for _, rate in sorted(rates)[-last:]]
    return statistics.median(recent) if recent else None


def _rate(attrs: dict[str, Any]) -> float | None:
    try:
        took = (datetime.fromisoformat(str(attrs["completion_time"]))
                - datetime.fromisoformat(str(attrs["request_time"]))).total_seconds()
    except (KeyError, ValueError):
        return None
    moved = attrs.get("bytes_transferred") or 0
    return moved / max(took, 1.0) if moved else None


def _document(tc: globus_sdk.TransferClient | None, collection: str) -> dict[str, Any] | None:
    if tc is None:
        return None
    try:
        return dict(tc.get_endpoint(collection).data)
    except _ASKED:
        return None


def _listed_size(tc: globus_sdk.TransferClient | None, endpoint: str,
                 paths: list[str]) -> int | None:
    """Bytes of the files at each path (a directory: its files, one level down)."""
    if tc is None:
        return None
    total = 0
    for path in paths:
        folder = path if path.endswith("/") else path.rsplit("/", 1)[0] + "/"
        try:
            listing = tc.operation_ls(endpoint, path=folder)
        except _ASKED:
            return None
        name = path.rsplit("/", 1)[-1]
        total += sum(int(entry.get("size") or 0) for entry in listing
                     if entry.get("type") == "file" and (path.endswith("/")
                                                         or entry.get("name") == name))
    return total


_OVER = (*FINAL, FAILING)  # no transfer of it will start (on_failure's are not waited for)


def workflow_credentials(session: Session, settings: GlobusSettings, workflow_id: str,
                         now: datetime) -> str | None:
    """For a workflow with a transfer still to start: whether the refresh token (estimated,
    from its measured last use) lapses before now + the walltimes of its job steps not yet
    ended (an upper bound of the wait). No network: collections' own timeouts are checked at
    `watcher stage submit`."""
    wf = record.get(session, workflow_id)
    if wf is None or wf.step in _OVER:
        return None
    steps, entries = wf.spec.get("steps") or {}, wf.progress.get("steps") or {}
    status = {name: str((entries.get(name) or {}).get("status") or "pending") for name in steps}
    if not any(step["kind"] == "transfer" and status[name] == "pending"
               for name, step in steps.items()):
        return None
    try:
        info = read_login(settings.token_db)
    except (OSError, sqlite3.Error, ValueError):
        return None
    if info is None:
        return None
    lapses_at = info.last_used_at + REFRESH_UNUSED_LIFETIME
    wait = sum((walltime(list(step.get("qsub") or [])) or timedelta()
                for name, step in steps.items()
                if step["kind"] == "job" and status[name] not in ENDED), timedelta())
    if lapses_at < now + wait:
        return (f"refresh token lapses {lapses_at:%Y-%m-%d} (estimated) before the last "
                f"transfer is due: keep `watcher run` running or run `watcher login`")
    return f"ok until {lapses_at:%Y-%m-%d} (refresh token, estimated)"


def graph_span(tc: globus_sdk.TransferClient | None, session: Session, spec: GraphSpec,
               queue_wait: timedelta) -> Span:
    """Until a graph's last transfer starts: the queue wait (stated, when a job is on the way)
    + each step of the longest chain before it (a job's walltime, a transfer's size over the
    pair's rate; only transfers that wait for nothing are listed: later ones move files that do
    not exist yet)."""
    steps = spec.steps
    length: dict[str, timedelta | None] = {}
    how: dict[str, str] = {}
    for name, step in steps.items():
        if step.job is not None:
            length[name] = walltime(step.qsub)
            how[name] = "its -l walltime" if length[name] else "no -l walltime given"
        elif step.transfer is not None and step.transfer.task is not None:
            length[name], how[name] = None, "a transfer you started"
        elif step.transfer is not None and not step.after:
            length[name], how[name] = _transfer_estimate(tc, session, step.transfer)
        else:
            length[name], how[name] = None, "its files do not exist yet"
    targets = [name for name, step in steps.items() if step.transfer is not None]
    chain = chain_to_last_start({name: step.after for name, step in steps.items()}, length,
                                targets)
    parts: list[tuple[str, timedelta | None, str]] = []
    if any(steps[name].job is not None for name in chain):
        parts.append(("queue wait", queue_wait, "--queue-wait, as you stated it"))
    parts += [(f"step {name}", length[name], how[name]) for name in chain]
    return Span(tuple(parts))


def graph_collections(spec: GraphSpec) -> list[str]:
    """Every endpoint a graph's transfers (its `on_failure` steps' too) touch, once each."""
    steps = [*spec.steps.values(), *spec.failure_steps().values()]
    return list(dict.fromkeys(loc.endpoint for step in steps if step.transfer is not None
                              for item in step.transfer.all_items()
                              for loc in (item.source, item.destination)))


def _transfer_estimate(tc: globus_sdk.TransferClient | None, session: Session,
                       transfer: GraphTransfer) -> tuple[timedelta | None, str]:
    items = transfer.all_items()
    source, destination = items[0].source.endpoint, items[0].destination.endpoint
    size = _listed_size(tc, source, [item.source.path for item in items])
    rate = recent_rate(session, source, destination)
    speed = f"{rate:.0f} B/s measured on your recent transfers" if rate else "no known rate"
    how = (f"{size} bytes listed over {speed}" if size is not None
           else "its size could not be listed")
    return transfer_time(size, rate), how
