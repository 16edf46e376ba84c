"""`watcher run` on the command line: one cycle, and one instance per store."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner
from filelock import FileLock

from watcher.cli import cli
from watcher.sim.pbs.testing import PbsSim

RULES = """
rules:
  - name: release-b
    when: {pbs_job: {name: a, state: F, exit_status: 0}}
    do: [{qrls: {job: "{{ job.variables.B }}"}}]
"""


def test_run_once_polls_and_reports(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "rules.yaml").write_text(RULES)
    with PbsSim(tmp_path / "pbs") as sim:
        args = ["run", "--once", "--rules", str(tmp_path / "rules.yaml"),
                "--db", f"sqlite:///{tmp_path / 'w.db'}", "--pbs-bin", str(sim.bin_dir)]
        result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == ("one cycle: 1 rule of yours and 3 staging rules in force, "
                                     "0 fired")


def test_verbose_shows_watchers_debug_lines_not_every_librarys(tmp_path: Path) -> None:
    (tmp_path / "rules.yaml").write_text(RULES)
    with PbsSim(tmp_path / "pbs") as sim:
        args = [sys.executable, "-m", "watcher", "run", "--once", "--rules",
                str(tmp_path / "rules.yaml"), "--db", f"sqlite:///{tmp_path / 'w.db'}",
                "--pbs-bin", str(sim.bin_dir)]
        env = {**os.environ, "WATCHER_CONFIG_DIR": str(tmp_path / "config")}
        one = subprocess.run([*args, "-v"], capture_output=True, text=True, env=env, timeout=60)
        two = subprocess.run([*args, "-vv"], capture_output=True, text=True, env=env, timeout=60)
    assert one.returncode == 0, one.stderr
    assert " DEBUG watcher." in one.stderr and " filelock:" not in one.stderr
    assert " DEBUG filelock:" in two.stderr


def test_a_second_instance_on_the_same_store_is_refused(runner: CliRunner,
                                                        tmp_path: Path) -> None:
    db = tmp_path / "w.db"
    with FileLock(f"{db}.lock"):  # a `watcher run` is already using it
        result = runner.invoke(cli, ["run", "--once", "--rules", str(tmp_path),
                                     "--db", f"sqlite:///{db}"])
    assert result.exit_code == 1
    assert f"another `watcher run` is using {db}" in result.output


def test_a_bad_settings_file_is_one_line_naming_it(runner: CliRunner, tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("pbs: {poll_intervall: 5}\n")
    result = runner.invoke(cli, ["run", "--once", "--config", str(config)])
    assert result.exit_code == 1
    assert f"{config}: pbs.poll_intervall: Extra inputs are not permitted" in result.output
    config.write_bytes(b"\xff\xfe")
    result = runner.invoke(cli, ["run", "--once", "--config", str(config)])
    assert result.exit_code == 1 and "cannot read" in result.output


def test_a_poll_interval_below_the_floor_names_the_setting(runner: CliRunner,
                                                           tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("pbs: {poll_interval: 5}\n")
    result = runner.invoke(cli, ["run", "--once", "--config", str(config)])
    assert result.exit_code == 1
    assert (f"{config}: pbs: Value error, pbs.poll_interval 5 s is below "
            "pbs.min_poll_interval (15 s)") in result.output
    config.write_text("pbs: {poll_interval: 5, min_poll_interval: 1}\n")  # a simulator's
    (tmp_path / "rules").mkdir()
    result = runner.invoke(cli, ["run", "--interval", "0.5", "--config", str(config),
                                 "--rules", str(tmp_path / "rules"),
                                 "--db", f"sqlite:///{tmp_path / 'w.db'}"])
    assert result.exit_code == 1
    assert "--interval 0.5 s is below pbs.min_poll_interval (1 s)" in result.output


TELL_ME = """rules:
  - name: tell-me
    when: {rules_invalid: {}}
    do: [{email: {to: me@example.org, subject: "{{ event.subject }} is invalid"}}]
"""


def test_run_once_tells_of_a_file_broken_at_start_once(runner: CliRunner, tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "tell.yaml").write_text(TELL_ME)
    (rules / "mine.yaml").write_text(RULES.replace("state: F", "stat: F"))
    with PbsSim(tmp_path / "pbs") as sim:
        args = ["run", "--once", "--rules", str(rules), "--db",
                f"sqlite:///{tmp_path / 'w.db'}", "--pbs-bin", str(sim.bin_dir)]
        first, again = runner.invoke(cli, args), runner.invoke(cli, args)
    assert first.exit_code == 0, first.output
    assert first.output.strip().endswith("1 fired")  # the broken file, told at once
    assert again.output.strip().endswith("0 fired")  # the same broken version: told already
