"""The facility benchmark's tables and its targets (issue 8), from the JSON report."""

from __future__ import annotations

import math
from typing import Any

from _graphs_report import graph_table, graph_targets
from _pbs_report import pbs_table, pbs_targets
from rich.console import Console
from rich.table import Table

STAGES = ("poll", "parse", "diff", "match", "record")


def targets(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target of issue 8 with what was measured and whether it is met."""
    found: list[dict[str, Any]] = []
    economy, cycle, latency = (report.get(k) for k in ("economy", "cycle", "latency"))
    if economy:
        rows = economy["rows"]
        found.append(_target(
            "1 PBS poll call per cycle, whatever N",
            ", ".join(f"N={_n(r)}: {r['watcher']['pbs_poll_calls_per_round']['max']}"
                      for r in rows),
            all(r["watcher"]["pbs_poll_calls_per_round"]["max"] == 1 for r in rows)))
        found.append(_target(
            "<= ceil(N/chunk) Globus task requests per cycle",
            ", ".join(f"N={_n(r)}: {r['watcher']['globus_task_requests_per_round']['max']}"
                      f" (ceil {r['ceil_n_over_chunk']})" for r in rows),
            all(r["watcher"]["globus_task_requests_per_round"]["max"] <= r["ceil_n_over_chunk"]
                for r in rows)))
        for row in (r for r in rows if r["n"] == 100):
            every = row["globus_every_rounds"]
            ratio, slots = row["globus_ratio"], row["watcher"]["batch_slots"]
            cadence = ("the same 10 s cadence as the monitors" if every == 1 else
                       f"Globus every {every * 10} s (the default interval)")
            found.append(_target(
                f">= 100x fewer Globus requests than monitor jobs at N=100, no batch slots; "
                f"{cadence}",
                f"{ratio:.0f}x over the stage-in ({_first_round_ratio(row):.0f}x in the first "
                f"round, all monitors polling); {slots} slots",
                ratio >= 100 and slots == 0))
    if cycle:
        idle = cycle["idle_staged"]
        found.append(_target("cycle CPU <= 2x bare json.loads",
                             f"PBS {idle['pbs_ratio_to_json_loads']:.1f}x, PBS + Globus "
                             f"{idle['cycle_ratio_to_json_loads']:.1f}x",
                             idle["cycle_ratio_to_json_loads"] <= 2))
        writes = cycle["idle_service_cycle"]["store"]["writes"] + idle["store_writes"]
        found.append(_target("no store writes in an idle cycle", f"{writes} writes",
                             writes == 0))
        peak = cycle["memory"]["peak_idle_service_cycle_mb"]
        found.append(_target(f"< 200 MB resident at {cycle['world']['jobs']:,} jobs",
                             f"{peak:.0f} MB peak in an idle cycle "
                             f"({cycle['memory']['peak_first_cycle_mb']:.0f} MB first cycle)",
                             peak < 200))
    if report.get("pbs"):
        found += pbs_targets(report["pbs"])
    if report.get("graphs"):
        found += graph_targets(report["graphs"])
    if latency and latency["all"].get("count"):
        median, goal = latency["all"]["median"], latency["target_median_seconds"]
        found.append(_target(f"median reaction <= interval/2 + 0.2 s ({goal:.2f} s)",
                             f"{median:.2f} s (p95 {latency['all']['p95']:.2f} s)",
                             median <= goal))
    return found


def _n(row: dict[str, Any]) -> str:
    every = row["globus_every_rounds"]
    return str(row["n"]) + (f" G/{every * 10}s" if every > 1 else "")


def _target(name: str, measured: str, met: bool) -> dict[str, Any]:
    return {"target": name, "measured": measured, "met": met}


def _first_round_ratio(row: dict[str, Any]) -> float:
    """Monitors' requests in round 0 (all N poll) over the watcher's in the first round in
    which it asked Globus."""
    asked = next((r["globus"] for r in row["rounds"] if r["globus"]), 0)
    return row["monitor_jobs"]["globus_requests_first_round"] / max(asked, 1)


def print_report(report: dict[str, Any], console: Console | None = None) -> None:
    console = console or Console(width=120)
    console.print(f"[bold]watcher facility benchmark[/] ({report['mode']}, "
                  f"{report['machine']['cpus']} CPUs, Python {report['machine']['python']}, "
                  f"{report['seconds']['total']:.0f} s)")
    if report.get("economy"):
        console.print(_economy_table(report["economy"]))
    if report.get("cycle"):
        console.print(_cycle_table(report["cycle"]))
    if report.get("latency"):
        console.print(_latency_table(report["latency"]))
    if report.get("pbs"):
        console.print(pbs_table(report["pbs"]))
    if report.get("graphs"):
        console.print(graph_table(report["graphs"]))
    console.print(_targets_table(report["targets"]))


def _economy_table(economy: dict[str, Any]) -> Table:
    table = Table(title="1. Polling economy, one stage-in: W = watcher, M = one monitor job per "
                        "workflow polling every 10 s (a round = 10 s)", title_justify="left",
                  caption="PBS totals include the one qrls per workflow both approaches make; "
                          "M check: real monitor threads / the model", caption_justify="left")
    for name in ("N", "rounds", "W PBS\npoll/rnd", "W task req/\nrnd (ceil)", "W PBS\ntotal",
                 "W Globus\ntotal", "W\nslots", "M Globus\ntotal", "M PBS\ntotal", "M\nslots",
                 "Globus\nratio", "M check"):
        table.add_column(name, justify="right")
    for row in economy["rows"]:
        w, m = row["watcher"], row["monitor_jobs"]
        check = m.get("validation")
        table.add_row(
            _n(row), str(w["rounds"]),
            str(w["pbs_poll_calls_per_round"]["max"]),
            f"{w['globus_task_requests_per_round']['max']} ({row['ceil_n_over_chunk']})",
            str(w["pbs_calls_total"]), str(w["globus_requests_total"]), str(w["batch_slots"]),
            str(m["globus_requests_total"]), str(m["pbs_calls_total"]), str(m["batch_slots"]),
            f"{row['globus_ratio']:.0f}x",
            f"{check['real_requests']}/{check['model_requests']}" if check else "-")
    return table


def _cycle_table(cycle: dict[str, Any]) -> Table:
    world, idle = cycle["world"], cycle["idle_staged"]
    service = cycle["idle_service_cycle"]
    table = Table(title=f"2. Cycle cost, idle: {world['jobs']:,} jobs, {world['tasks']:,} "
                        f"watched tasks, {world['rules_in_force']:,} rules "
                        f"(median of {idle['cycles']} cycles)", title_justify="left",
                  caption="SQL in the idle Service.cycle(): "
                          + _statements(service["store"]["statements"]),
                  caption_justify="left")
    for name in ("stage", "PBS CPU ms", "PBS wall ms", "Globus CPU ms", "Globus wall ms"):
        table.add_column(name, justify="right")
    for stage in STAGES:
        table.add_row(stage, _ms(idle["pbs_cpu"][stage]), _ms(idle["pbs_wall"][stage]),
                      _ms(idle["globus_cpu"][stage]), _ms(idle["globus_wall"][stage]))
    table.add_row("total", _ms(idle["pbs_cpu_total"]), _ms(sum(idle["pbs_wall"].values())),
                  _ms(idle["globus_cpu_total"]), _ms(sum(idle["globus_wall"].values())),
                  end_section=True)
    table.add_row("json.loads (yardstick)", _ms(idle["json_loads_cpu"]), "", "", "")
    table.add_row("ratio to json.loads", f"{idle['pbs_ratio_to_json_loads']:.2f}x", "",
                  f"+{idle['globus_cpu_total'] / idle['json_loads_cpu']:.2f}x", "",
                  end_section=True)
    memory, burst = cycle["memory"], cycle["burst"]
    table.add_row("idle Service.cycle()", f"{_ms(service['cpu'])} CPU",
                  f"{_ms(service['wall'])} wall", f"writes {service['store']['writes']}", "")
    table.add_row("resident memory MB", f"idle peak {memory['peak_idle_service_cycle_mb']:.0f}",
                  f"before it {memory['rss_before_idle_cycle_mb']:.0f}",
                  f"imports {memory['baseline_after_imports_mb']:.0f}",
                  f"first-cycle peak {memory['peak_first_cycle_mb']:.0f}; source memories "
                  f"{memory['source_memories_mb']:.0f}")
    table.add_row(f"burst: {burst['events']} jobs appear",
                  f"match {_ms(burst['pbs_cpu'].get('match', 0))}",
                  f"{burst['match_cpu_per_event'] * 1000:.1f} ms/event",
                  f"SELECT {burst['store']['statements'].get('SELECT', 0)}", "")
    return table


def _statements(counts: dict[str, int]) -> str:
    return ", ".join(f"{verb} {n}" for verb, n in counts.items())


def _ms(seconds: float) -> str:
    return "-" if seconds is None or math.isnan(seconds) else f"{seconds * 1000:.1f}"


def _latency_table(latency: dict[str, Any]) -> Table:
    plan = latency["plan"]
    table = Table(title=f"3. Reaction latency: change → action done, poll interval "
                        f"{plan['poll_interval']:g} s (target median <= "
                        f"{latency['target_median_seconds']:.2f} s)", title_justify="left")
    for name in ("change", "samples", "median s", "p95 s", "min s", "max s"):
        table.add_column(name, justify="right")
    for kind, label in (("pbs", "pbs"), ("globus", "globus"), ("all", "all"),
                        ("pbs_wait_for_poll", "pbs: wait for the poll"),
                        ("pbs_work_poll_to_action", "pbs: poll start → action done"),
                        ("pbs_work_poll_to_qrls_start", "  of which poll → qrls starts"),
                        ("pbs_work_qrls_to_recorded", "  of which qrls → recorded")):
        d = latency[kind]
        if d.get("count"):
            table.add_row(label, str(d["count"]), f"{d['median']:.2f}", f"{d['p95']:.2f}",
                          f"{d['min']:.2f}", f"{d['max']:.2f}", end_section=kind == "all")
    return table


def _targets_table(found: list[dict[str, Any]]) -> Table:
    table = Table(title="Targets (issue 8)", title_justify="left")
    table.add_column("target")
    table.add_column("measured")
    table.add_column("met")
    for t in found:
        table.add_row(t["target"], t["measured"], "yes" if t["met"] else "[bold red]NO[/]")
    return table
