"""Part 4's table and the targets of issue 13, from the JSON report (see `_pbs_facility.py`)."""

from __future__ import annotations

from typing import Any

from rich.table import Table


def pbs_targets(pbs: dict[str, Any]) -> list[dict[str, Any]]:
    """Issue 13: >= 100x fewer bytes and records per cycle, <= 2 PBS calls idle, no false
    vanish or missed change, < 20 ms watcher CPU per idle cycle."""
    old, new = pbs["listing"]["idle"], pbs["select"]["idle"]
    jobs = f"{pbs['world']['jobs']:,} jobs"
    found = []
    for key, what in (("bytes_max", "bytes printed"), ("records_max", "job records served")):
        ratio = old[key] / max(new[key], 1)
        found.append({"target": f">= 100x fewer {what} per idle cycle than the full listing "
                                f"({jobs})",
                      "measured": f"{old[key]:,} vs {new[key]:,} ({ratio:,.0f}x)",
                      "met": old[key] >= 100 * new[key]})
    found.append({"target": "<= 2 PBS calls in an idle cycle (qselect)",
                  "measured": f"{new['pbs_calls_max']} ({', '.join(new['commands'])})",
                  "met": new["pbs_calls_max"] <= 2})
    runs = (pbs["listing"], pbs["select"])
    wrong = sum(r["vanished"] + r["missed_changes"] for r in runs)
    found.append({"target": "no false vanish, no missed change (both sources)",
                  "measured": ", ".join(f"{r['mode']}: {r['vanished']} vanished, "
                                        f"{r['missed_changes']}/{r['changes']} missed"
                                        for r in runs),
                  "met": wrong == 0})
    cpu = new["cpu_median"]
    found.append({"target": f"watcher CPU per idle cycle < 20 ms at {jobs}",
                  "measured": f"{cpu * 1000:.1f} ms (full listing {old['cpu_median'] * 1000:.0f}"
                              f" ms)", "met": cpu < 0.020})
    return found


def pbs_table(pbs: dict[str, Any]) -> Table:
    world, plan = pbs["world"], pbs["plan"]
    table = Table(title=f"4. PBS at facility scale: {world['jobs']:,} jobs of {world['users']} "
                        f"users; the watching user owns {plan['active']} held + "
                        f"{plan['finished']} finished (issue 13)", title_justify="left",
                  caption=f"idle cycles: worst of {plan['idle_cycles']}; reaction: release of "
                          f"a held job → firing committed, polls every {plan['poll_interval']:g}"
                          " s", caption_justify="left")
    for name in ("per cycle", "full listing", "qselect + qstat <ids>", "ratio"):
        table.add_column(name, justify="right")
    old, new = pbs["listing"], pbs["select"]

    def row(label: str, a: float, b: float, fmt: str = "{:,.0f}") -> None:
        ratio = f"{a / b:,.0f}x" if b else "-"
        table.add_row(label, fmt.format(a), fmt.format(b), ratio)

    row("PBS calls, idle", old["idle"]["pbs_calls_max"], new["idle"]["pbs_calls_max"])
    row("bytes printed, idle", old["idle"]["bytes_max"], new["idle"]["bytes_max"])
    row("job records served, idle", old["idle"]["records_max"], new["idle"]["records_max"])
    row("watcher CPU ms, idle", old["idle"]["cpu_median"] * 1000,
        new["idle"]["cpu_median"] * 1000, "{:,.1f}")
    row("wall ms, idle", old["idle"]["wall_median"] * 1000, new["idle"]["wall_median"] * 1000)
    row("first cycle: records", old["first_cycle"]["records"], new["first_cycle"]["records"])
    row("peak RSS MB", old["peak_rss_mb"], new["peak_rss_mb"])
    for mode in ("listing", "select"):
        r = pbs[mode]["reaction_seconds"]
        if r.get("count"):
            table.add_row(f"reaction s ({mode})", f"median {r['median']:.2f}",
                          f"p95 {r['p95']:.2f}", f"n={r['count']}")
    return table
