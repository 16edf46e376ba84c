"""The facility benchmark's tables and its targets (issue 8), from the JSON report."""

from __future__ import annotations

import math
from typing import Any

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
            ", ".join(f"N={r['n']}: {r['watcher']['pbs_poll_calls_per_round']['max']}"
                      for r in rows),
            all(r["watcher"]["pbs_poll_calls_per_round"]["max"] == 1 for r in rows)))
        found.append(_target(
            "<= ceil(N/chunk) Globus task requests per cycle",
            ", ".join(f"N={r['n']}: {r['watcher']['globus_task_requests_per_round']['max']}"
                      f" (ceil {r['ceil_n_over_chunk']})" for r in rows),
            all(r["watcher"]["globus_task_requests_per_round"]["max"] <= r["ceil_n_over_chunk"]
                for r in rows)))
        at_100 = next((r for r in rows if r["n"] == 100), None)
        if at_100 is not None:
            ratio = at_100["globus_ratio"]
            found.append(_target(
                ">= 100x fewer Globus requests than monitor jobs at N=100, no batch slots",
                f"{ratio:.0f}x over the stage-in ({_first_round_ratio(at_100):.0f}x while "
                f"all monitors poll); {at_100['watcher']['batch_slots']} slots",
                ratio >= 100 and at_100["watcher"]["batch_slots"] == 0))
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
    if latency and latency["all"].get("count"):
        median, goal = latency["all"]["median"], latency["target_median_seconds"]
        found.append(_target(f"median reaction <= interval/2 + 0.2 s ({goal:.2f} s)",
                             f"{median:.2f} s (p95 {latency['all']['p95']:.2f} s)",
                             median <= goal))
    return found


def _target(name: str, measured: str, met: bool) -> dict[str, Any]:
    return {"target": name, "measured": measured, "met": met}


def _first_round_ratio(row: dict[str, Any]) -> float:
    first = row["rounds"][0]["globus"] if row["rounds"] else 0
    return row["monitor_jobs"]["globus_requests_first_round"] / max(first, 1)


def print_report(report: dict[str, Any], console: Console | None = None) -> None:
    console = console or Console(width=140)
    console.print(f"[bold]watcher facility benchmark[/] ({report['mode']}, "
                  f"{report['machine']['cpus']} CPUs, Python {report['machine']['python']}, "
                  f"{report['seconds']['total']:.0f} s)")
    if report.get("economy"):
        console.print(_economy_table(report["economy"]))
    if report.get("cycle"):
        console.print(_cycle_table(report["cycle"]))
    if report.get("latency"):
        console.print(_latency_table(report["latency"]))
    console.print(_targets_table(report["targets"]))


def _economy_table(economy: dict[str, Any]) -> Table:
    table = Table(title="1. Polling economy: one stage-in, watcher vs one monitor job per "
                        "workflow (a round = 10 s)", title_justify="left")
    for name in ("N", "rounds", "PBS calls/round\npoll (max)", "PBS calls\ntotal",
                 "Globus task req/\nround (max, ceil)", "Globus req\ntotal", "slots",
                 "monitors: Globus\nreq total", "monitors: PBS\ncalls total",
                 "monitors:\nslots", "Globus\nratio", "model check\n(real / model)"):
        table.add_column(name, justify="right")
    for row in economy["rows"]:
        w, m = row["watcher"], row["monitor_jobs"]
        check = m.get("validation")
        table.add_row(
            str(row["n"]), str(w["rounds"]), str(w["pbs_poll_calls_per_round"]["max"]),
            f"{w['pbs_calls_total']} ({_calls(w['pbs_calls_by_command'])})",
            f"{w['globus_task_requests_per_round']['max']} ({row['ceil_n_over_chunk']})",
            str(w["globus_requests_total"]), str(w["batch_slots"]),
            str(m["globus_requests_total"]), str(m["pbs_calls_total"]), str(m["batch_slots"]),
            f"{row['globus_ratio']:.0f}x",
            f"{check['real_requests']} / {check['model_requests']}" if check else "-")
    return table


def _calls(by_command: dict[str, int]) -> str:
    return " ".join(f"{n} {cmd}" for cmd, n in sorted(by_command.items()))


def _cycle_table(cycle: dict[str, Any]) -> Table:
    world, idle = cycle["world"], cycle["idle_staged"]
    table = Table(title=f"2. Cycle cost, idle: {world['jobs']:,} jobs, {world['tasks']:,} "
                        f"watched tasks, {world['rules_in_force']:,} rules "
                        f"(median of {idle['cycles']} cycles)", title_justify="left")
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
    service, memory, burst = cycle["idle_service_cycle"], cycle["memory"], cycle["burst"]
    table.add_row("idle Service.cycle()", f"{_ms(service['cpu'])} CPU",
                  f"{_ms(service['wall'])} wall",
                  f"writes {service['store']['writes']}",
                  _statements(service["store"]["statements"]))
    table.add_row("resident memory", f"idle peak {memory['peak_idle_service_cycle_mb']:.0f} MB",
                  f"first cycle {memory['peak_first_cycle_mb']:.0f} MB",
                  f"imports {memory['baseline_after_imports_mb']:.0f} MB", "")
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
    for kind in ("pbs", "globus", "all"):
        d = latency[kind]
        if d.get("count"):
            table.add_row(kind, str(d["count"]), f"{d['median']:.2f}", f"{d['p95']:.2f}",
                          f"{d['min']:.2f}", f"{d['max']:.2f}")
    return table


def _targets_table(found: list[dict[str, Any]]) -> Table:
    table = Table(title="Targets (issue 8)", title_justify="left")
    table.add_column("target")
    table.add_column("measured")
    table.add_column("met")
    for t in found:
        table.add_row(t["target"], t["measured"], "yes" if t["met"] else "[bold red]NO[/]")
    return table
