"""Part 5's table and the targets of issue 17 item 6, from the JSON report (`_graphs.py`)."""

from __future__ import annotations

import math
from typing import Any

from rich.table import Table

CPU_TARGET = 0.100  # seconds of watcher CPU per idle cycle


def graph_targets(graphs: dict[str, Any]) -> list[dict[str, Any]]:
    """Issue 17: ceil(watched tasks / chunk) Globus requests, < 100 ms CPU, 0 store writes."""
    world, idle = graphs["world"], graphs["idle_summary"]
    n = f"{world['workflows']:,} graph workflows"
    bound = math.ceil(world["watched_tasks"] / graphs["plan"]["chunk"])
    asked = idle["globus_requests_max"]
    return [
        {"target": f"<= ceil(watched tasks / chunk) Globus requests per cycle ({n})",
         "measured": f"{asked} (task_list {idle['task_list_max']}; ceil({world['watched_tasks']:,}"
                     f" / {graphs['plan']['chunk']}) = {bound})",
         "met": asked <= bound},
        {"target": f"watcher CPU per idle cycle < 100 ms ({n})",
         "measured": f"{idle['cpu_median'] * 1000:.1f} ms median of {idle['cycles']} "
                     f"(max {idle['cpu_max'] * 1000:.1f} ms)",
         "met": idle["cpu_median"] < CPU_TARGET},
        {"target": f"no store writes in an idle cycle ({n})",
         "measured": f"{idle['store_writes']} writes", "met": idle["store_writes"] == 0},
    ]


def graph_table(graphs: dict[str, Any]) -> Table:
    """One row per measured cycle, warm-up first."""
    world, idle, plan = graphs["world"], graphs["idle_summary"], graphs["plan"]
    table = Table(title=f"5. Graph workflows in flight: {world['workflows']:,} x "
                        f"{world['steps_per_workflow']} steps, {world['watched_tasks']:,} "
                        f"watched tasks, {world['jobs']:,} held jobs (issue 17)",
                  title_justify="left",
                  caption=f"PBS discovery {plan['discovery']}, Globus chunk {plan['chunk']}; "
                          f"idle: median of {idle['cycles']} real Service.cycle()",
                  caption_justify="left")
    for name in ("cycle", "CPU ms", "wall ms", "Globus requests", "PBS calls", "store writes",
                 "SQL statements", "peak RSS MB"):
        table.add_column(name, justify="right")
    rows = [(f"warm-up {i + 1}", c) for i, c in enumerate(graphs["warmup"])]
    rows += [(f"idle {i + 1}", c) for i, c in enumerate(graphs["idle"])]
    for name, c in rows:
        table.add_row(name, f"{c['cpu'] * 1000:.1f}", f"{c['wall'] * 1000:.0f}",
                      _counts({_route(r): n for r, n in c["globus_requests"].items()}),
                      _counts(c["pbs_calls"]),
                      str(c["store"]["writes"]), _counts(c["store"]["statements"]),
                      f"{c['peak_rss_mb']:.0f}")
    return table


def _route(route: str) -> str:
    """`GET /v0.10/task_list` -> `task_list`; an endpoint route by its first word."""
    return route.split()[-1].removeprefix("/v0.10/").split("/")[0]


def _counts(counts: dict[str, int]) -> str:
    merged: dict[str, int] = {}
    for name, n in counts.items():
        merged[name] = merged.get(name, 0) + n
    return ", ".join(f"{name} {n}" for name, n in merged.items()) or "0"
