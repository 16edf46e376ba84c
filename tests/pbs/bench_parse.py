"""Benchmark, not a test: `parse_qstat_json` against a bare `json.loads` of the same document.

    python tests/pbs/bench_parse.py [--jobs 10000] [--rounds 5]

The document repeats the real jobs in tests/testdata/qstat/fixtures under new ids, laid out the
way qstat prints it. A second run plants the Aurora quirk (`"CI_COMMIT_BEFORE_SHA":0000000`) in
one job out of a hundred, to price the salvage path that such a site takes on every poll.
The last line is what PbsSource pays with watch="mine": only one user's jobs are built.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from watcher.pbs.parse import parse_qstat_json
from watcher.sources.pbs import job_selector

FIXTURES = Path(__file__).parents[1] / "testdata" / "qstat" / "fixtures"


def sample_jobs() -> list[dict]:
    jobs = []
    for path in sorted(FIXTURES.glob("*.json")):
        text = path.read_text()
        if path.name.endswith(".fixture.json"):
            continue
        jobs.extend(json.loads(text).get("Jobs", {}).values())
    return jobs


def document(n: int, *, quirk_every: int = 0) -> str:
    samples = sample_jobs()
    jobs = {}
    for i in range(n):
        job = dict(samples[i % len(samples)])
        if quirk_every and i % quirk_every == 0:
            job["Variable_List"] = {**job.get("Variable_List", {}), "CI_COMMIT_BEFORE_SHA": "@Z@"}
        jobs[f"{1000000 + i}.pbs"] = job
    head = {"timestamp": 1752784748, "pbs_version": "2022.1.7", "pbs_server": "pbs", "Jobs": jobs}
    text = json.dumps(head, indent=4, separators=(",", ":"))
    return text.replace('"@Z@"', "0" * 40)


def best(fn, text: str, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn(text)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    valid = document(args.jobs)
    quirky = document(args.jobs, quirk_every=100)
    loads = best(json.loads, valid, args.rounds)
    fast = best(parse_qstat_json, valid, args.rounds)
    slow = best(parse_qstat_json, quirky, args.rounds)
    # PbsSource's default watch: one user (none of the sample owners) and a few named jobs.
    mine = job_selector("mine", "alice", ["1000007.pbs", "1000100.pbs", "1009999.pbs"])
    selected = best(lambda text: parse_qstat_json(text, select=mine), valid, args.rounds)
    assert len(parse_qstat_json(quirky).jobs) == args.jobs
    print(f"{args.jobs} jobs, {len(valid) / 1e6:.1f} MB")
    print(f"json.loads            {loads * 1000:8.1f} ms")
    print(f"parse (valid JSON)    {fast * 1000:8.1f} ms  ratio {fast / loads:.2f}")
    print(f"parse (1% quirky)     {slow * 1000:8.1f} ms  ratio {slow / loads:.2f}")
    print(f"parse (select mine)   {selected * 1000:8.1f} ms  ratio {selected / loads:.2f}")


if __name__ == "__main__":
    main()
