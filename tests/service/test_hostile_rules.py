"""A running `watcher run` beside hostile rule files keeps monitoring (issue 11, findings 1, 2, 4).

The hostile corpus is dropped into the rules directory of a running service, next to a good rule
and to rules whose templates explode: the service keeps polling, the good rule fires, the reload
job raises nothing, a good file added afterwards is picked up, and SIGTERM stops it in seconds.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.rules.hostile import CORPUS
from watcher.sim.pbs.testing import PbsSim


def release(name: str, job: str = "{{ job.id }}") -> str:
    return (f"rules:\n  - name: release-{name}\n    when: {{pbs_job: {{name: {name}, "
            f"state: H}}}}\n    do: [{{qrls: {{job: \"{job}\"}}}}]\n")


# Rules that fire on the same job as the good one, with templates that blow up at render time.
SLOW = ("{% macro f(n) %}{% if n %}{{ f(n-1) }}{{ f(n-1) }}{% endif %}{% endmacro %}{{ f(80) }}")
EXPLODING_RULES = {
    "power.yaml": release("first", "{{ (job.run_count + 8) ** 9999999 }}")
    .replace("release-first", "power"),
    "slow.yaml": release("first", SLOW).replace("release-first", "slow"),
}


def _wait_log(log: Path, text: str, count: int = 1, timeout: float = 30) -> None:
    """Until `text` is in the log `count` times (rules come in force on a reload: a job that
    entered its state before would not be an edge)."""
    deadline = time.monotonic() + timeout
    while log.read_text(errors="replace").count(text) < count:
        assert time.monotonic() < deadline, f"no {text!r} x{count} in:\n{log.read_text()}"
        time.sleep(0.1)


def _wait_finished(sim: PbsSim, job: str, timeout: float) -> float:
    started = time.monotonic()
    sim.wait_for(job, "F", timeout=timeout)
    return time.monotonic() - started


def test_hostile_files_beside_a_good_rule_in_a_running_service(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "good.yaml").write_text(release("first"))
    env = {**os.environ, "WATCHER_CONFIG_DIR": str(tmp_path / "config"),
           "WATCHER_DATA_DIR": str(tmp_path / "data")}
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.yaml").write_text("pbs: {min_poll_interval: 0}\n")  # 0.3 s
    with PbsSim(tmp_path / "pbs") as sim:
        argv = [sys.executable, "-m", "watcher", "run", "-v", "--rules", str(rules),
                "--db", f"sqlite:///{tmp_path / 'w.db'}", "--pbs-bin", str(sim.bin_dir),
                "--interval", "0.3"]
        log = tmp_path / "run.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env,
                                    start_new_session=True)
        try:
            _wait_log(log, "watcher running")
            for name, content, _ in CORPUS:
                path = rules / name
                path.write_bytes(content) if isinstance(content, bytes) else \
                    path.write_text(content)
            for name, text in EXPLODING_RULES.items():
                (rules / name).write_text(text)
            _wait_log(log, "rules reloaded: 3 in force")
            first = sim.qsub("true\n", "-N", "first", "-h")
            assert _wait_finished(sim, first, 15) < 10  # released by the good rule
            (rules / "later.yaml").write_text(release("second"))
            _wait_log(log, "rules reloaded: 4 in force")
            second = sim.qsub("true\n", "-N", "second", "-h")
            assert _wait_finished(sim, second, 15) < 10  # a new good file is picked up
            assert proc.poll() is None, log.read_text()
        finally:
            stopping = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=20)
        assert time.monotonic() - stopping < 10
    output = log.read_text()
    assert code == 0, output
    # (What the scheduler logs of the stop itself is not about rules.)
    running = output.split(" INFO watcher.service.scheduler: stopping")[0]
    assert "Traceback" not in running and "unexpected error" not in running
    for name, _, expected in CORPUS:
        assert f"{rules / name}:" in output and expected in output, name
    # Valid files, loaded with a warning; their templates fail at render time.
    assert "power.yaml is invalid" not in output and "slow.yaml is invalid" not in output
    assert "power.do[0].qrls.job: warning: template can explode" in output
    assert "template stopped: 8 ** 9999999 is over 4096 bits" in output
    assert "template stopped: template ran over its time budget" in output
