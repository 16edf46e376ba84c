"""Credentials that will not outlive the workflow: warned about at `watcher stage submit`.

The refresh token lapses about 180 days after its last use: a login last used 179.5 days ago
lapses in 12 hours, before a workflow asking for 48 hours of walltime reaches its stage-out.
A high-assurance collection asks for a fresh login after `authentication_timeout_mins`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from tests.workflows import _graph, _staging
from tests.workflows._staging import Staging
from watcher.globus.login_info import LoginInfo, read_login, record_login
from watcher.workflows.lifetime import (
    Lapse,
    Span,
    chain_to_last_start,
    lapses_before,
    walltime,
)

FIXTURES = _staging.FIXTURES
emu, globus, sim, make_service, sink, settings, world = FIXTURES


def login_used(world: Staging, ago: timedelta) -> None:
    record_login(world.globus.settings.token_db, LoginInfo(
        client_id=world.globus.settings.client_id, logged_in_at=datetime.now(UTC) - ago,
        username="alice@emulator.globus.org"))


def stage_submit(world: Staging, *extra: str) -> object:
    return world.cli("stage", "submit", "--json", *extra, *world.stage_in_args(),
                     "--stage-out", f"{world.dst}:/run/out/", f"{world.src}:/results/",
                     "compute.sh", "--", "-l", "walltime=48:00:00")


def test_a_refresh_token_lapsing_before_the_stage_out_is_warned_and_strict_refuses(
        world: Staging) -> None:
    login_used(world, timedelta(days=179, hours=12))
    refused = stage_submit(world, "--strict")
    assert refused.exit_code == 1
    assert "the Globus refresh token lapses at" in refused.output
    assert "estimated: Globus's ~180 days after its last use" in refused.output
    assert ("before the workflow's expected last transfer at" in refused.output)
    assert ("(now + queue wait 0s (--queue-wait, as you stated it) + step stage-in unknown "
            "(14 bytes listed over no known rate) + step compute 2d (its -l walltime))"
            in refused.output)
    assert "--strict: nothing was submitted" in refused.output
    assert world.globus.emu.tasks() == []  # refused before anything was submitted
    warned = stage_submit(world)
    assert warned.exit_code == 0, warned.output
    assert "warning: the Globus refresh token lapses at" in warned.output
    assert "keep `watcher run` running" in warned.output
    workflow_id = json.loads(warned.stdout)["workflow"]
    report = json.loads(world.cli("status", "--json").stdout)
    [row] = [r for r in report["workflows"] if r["id"] == workflow_id]
    assert row["credentials"].startswith("refresh token lapses")


def test_a_fresh_login_passes_without_a_warning(world: Staging) -> None:
    login_used(world, timedelta(minutes=1))
    done = stage_submit(world, "--strict")
    assert done.exit_code == 0, done.output
    assert "warning" not in done.output
    report = json.loads(world.cli("status", "--json").stdout)
    assert report["workflows"][0]["credentials"].startswith("ok until ")


def test_a_high_assurance_collections_timeout_is_measured(world: Staging,
                                                           tmp_path: Path) -> None:
    vault = world.globus.emu.add_endpoint(tmp_path / "vault", display_name="vault",
                                          high_assurance=True,
                                          authentication_timeout_mins=600)
    login_used(world, timedelta(minutes=1))
    result = world.cli("stage", "submit", "--json", "--queue-wait", "1d",
                       *world.stage_in_args(), "--stage-out", f"{world.dst}:/run/out/",
                       f"{vault}:/results/", "compute.sh")
    assert result.exit_code == 0, result.output
    assert (f"the consent for high-assurance collection vault ({vault}) lapses at"
            in result.output)
    assert "authentication_timeout_mins=600" in result.output
    assert "queue wait 1d (--queue-wait, as you stated it)" in result.output
    info = read_login(world.globus.settings.token_db)
    assert info is not None


def test_the_comparison_is_pure_and_keeps_measured_apart_from_estimated() -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    span = Span((("walltime", timedelta(hours=2), "asked"), ("stage-in", None, "no rate")))
    early = Lapse("the token", now + timedelta(hours=1), "estimated: policy", "log in")
    late = Lapse("the other", now + timedelta(hours=3), "measured", "nothing")
    [warning] = lapses_before([late, early], now, span)
    assert warning.startswith("the token lapses at 2026-12-01 01:00 UTC (estimated: policy)")
    assert "now + walltime 2h (asked) + stage-in unknown (no rate)" in warning
    assert walltime(["-l", "select=1:ncpus=4,walltime=01:30:00"]) == timedelta(hours=1.5)
    assert walltime(["-lwalltime=90"]) == timedelta(seconds=90) and walltime([]) is None


def test_a_graph_warns_about_a_lapse_before_its_last_transfer_and_strict_refuses(
        world: Staging) -> None:
    ep3, _ = _graph.third_endpoint(world)
    _graph.scripts(world)
    spec = _graph.graph(world, ep3, steps={
        "prep": {"qsub": ["-l", "walltime=24:00:00"]},
        "sim": {"qsub": ["-l", "select=1:ncpus=2,walltime=30:00:00"]}})
    (world.run_dir / "wf.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    login_used(world, timedelta(days=179, hours=12))
    refused = world.cli("stage", "submit", "--strict", "--queue-wait", "2h", "-f",
                        str(world.run_dir / "wf.yaml"))
    assert refused.exit_code == 1
    assert "the Globus refresh token lapses at" in refused.output
    assert "before the workflow's expected last transfer" in refused.output
    # The chain that decides when `out` and `share` start: an input, prep, then sim.
    assert ("(now + queue wait 2h (--queue-wait, as you stated it) + step in-a unknown (14 bytes "
            "listed over no known rate) + step prep 1d (its -l walltime) + step sim 1d6h (its -l "
            "walltime))") in refused.output
    assert "--strict: nothing was submitted" in refused.output
    assert world.globus.emu.tasks() == []
    login_used(world, timedelta(minutes=1))
    assert "warning" not in _graph_submit_output(world)


def _graph_submit_output(world: Staging) -> str:
    done = world.cli("stage", "submit", "--strict", "-f", str(world.run_dir / "wf.yaml"))
    assert done.exit_code == 0, done.output
    return done.output


def test_the_chain_before_the_last_start_is_the_longest() -> None:
    hour = timedelta(hours=1)
    after = {"a": [], "b": [], "prep": ["a", "b"], "sim": ["prep"], "out": ["sim"],
             "early": ["a"]}
    length = {"a": hour, "b": 3 * hour, "prep": None, "sim": 2 * hour, "out": hour,
              "early": hour}
    assert chain_to_last_start(after, length, ["out", "early", "a"]) == ["b", "prep", "sim"]
    assert chain_to_last_start(after, length, ["a", "b"]) == []
    assert chain_to_last_start(after, length, []) == []
    # Lengths all unknown (no rate, no walltime): the stage-out still waits for stage-in and
    # compute, so their chain is the one, not the stage-in's empty one.
    three = {"stage-in": [], "compute": ["stage-in"], "stage-out": ["compute"]}
    unknown = dict.fromkeys(three)
    assert chain_to_last_start(three, unknown, ["stage-in", "stage-out"]) == [
        "stage-in", "compute"]
