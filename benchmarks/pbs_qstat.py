"""How long `qstat -f -F json -x` takes on a PBS simulator holding 10,000 jobs.

    python benchmarks/pbs_qstat.py [--jobs 10000] [--runs 5]

Half the jobs are copies of a finished job, half of a held one, inserted through the store
API (10,000 qsub calls would take minutes). Prints wall-clock times of whole shim calls,
Python start-up included. Target: under one second.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from watcher.sim.pbs import model, store
from watcher.sim.pbs.testing import PbsSim


def fill(sim: PbsSim, count: int, workdir: Path) -> None:
    """Insert `count` jobs into the simulator's store, alternating copies of one finished and
    one held job (far faster than `count` qsubs)."""
    templates = [sim.wait_for(sim.qsub("exit 0\n", cwd=workdir)),
                 sim.wait_for(sim.qsub("exit 0\n", "-h", cwd=workdir), state="H")]
    conn = store.connect(sim.paths.db)
    sources = [model.load(conn, seq) for seq in (0, 1)]
    with store.transaction(conn):
        for i in range(count):
            job = sources[i % 2]
            assert job is not None and templates
            job.seq = store.next_seq(conn)
            job.attrs["Job_Name"] = f"bench_{job.seq}"
            model.insert(conn, job)
    conn.close()


def main() -> None:
    """Time `qstat -f -F json -x` over a simulator holding `--jobs` jobs, `--runs` times."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, PbsSim(Path(tmp) / "pbs") as sim:
        started = time.perf_counter()
        fill(sim, args.jobs, Path(tmp))
        print(f"inserted {args.jobs} jobs in {time.perf_counter() - started:.2f} s")
        qstat = [str(sim.bin_dir / "qstat"), "-f", "-F", "json", "-x"]
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            result = subprocess.run(qstat, capture_output=True, text=True, check=True)
            times.append(time.perf_counter() - started)
        jobs = len(json.loads(result.stdout)["Jobs"])
        print(f"qstat -f -F json -x: {jobs} jobs, {len(result.stdout) / 1e6:.1f} MB")
        print(f"wall clock over {args.runs} runs: min {min(times):.3f} s, "
              f"median {statistics.median(times):.3f} s, max {max(times):.3f} s")
        print("target < 1 s:", "met" if statistics.median(times) < 1 else "NOT met")


if __name__ == "__main__":
    main()
