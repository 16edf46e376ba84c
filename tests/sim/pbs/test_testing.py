"""PbsSim, the helper other packages build on: its API and its cleanup guarantee."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from watcher.pbs.commands import PbsCommands
from watcher.sim.pbs.testing import PbsSim, loads_pbs_json


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if text in cmdline and int(entry) != os.getpid():
                found.append(int(entry))
    return found


def test_no_process_is_left_even_when_the_test_fails(tmp_path: Path) -> None:
    home = tmp_path / "pbs"
    with pytest.raises(RuntimeError, match="boom"), PbsSim(home) as sim:
        job_id = sim.qsub("sleep 60\n")
        sim.wait_for(job_id, state="R")
        raise RuntimeError("boom")
    assert _processes_mentioning(str(home)) == []


def test_api(tmp_path: Path) -> None:
    with PbsSim(tmp_path / "pbs", nodes=1, server_name="api") as sim:
        assert sim.bin_dir == tmp_path / "pbs" / "bin"
        assert isinstance(sim.commands, PbsCommands)
        assert sim.commands.path("qstat") == str(sim.bin_dir / "qstat")
        result = sim.commands.run_sync("qsub", "-N", "viacommands", stdin="exit 0\n",
                                       cwd=sim.workdir)
        assert result.ok and result.stdout.endswith(".api\n")
        job = sim.wait_for(result.stdout.strip(), timeout=20)
        assert job["Job_Name"] == "viacommands"
        types = [line.split(";")[1] for line in sim.accounting_lines()]
        assert types == ["Q", "S", "E"]
        with pytest.raises(TimeoutError, match="not in state R"):
            sim.wait_for(result.stdout.strip(), state="R", timeout=0.3)
        with pytest.raises(RuntimeError, match="qsub failed \\(2\\)"):
            sim.qsub("exit 0\n", "-Z")


def test_bare_tokens_pbs_prints_are_read_as_strings() -> None:
    text = '{\n    "a":00,\n    "b":.5,\n    "c":12,\n    "d":{\n        "e":0000\n    }\n}\n'
    assert loads_pbs_json(text) == {"a": "00", "b": ".5", "c": 12, "d": {"e": "0000"}}
