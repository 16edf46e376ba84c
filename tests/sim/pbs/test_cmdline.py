"""glibc getopt: permutation and the exact error messages the PBS commands print."""

from __future__ import annotations

import pytest

from watcher.sim.pbs.cmdline import getopt


def test_options_after_operands_are_permuted() -> None:
    parsed = getopt(["qstat", "12", "-x", "-fF", "json"], "fxF:")
    assert parsed.options == [("x", ""), ("f", ""), ("F", "json")]
    assert parsed.operands == ["12"]
    assert parsed.permuted


def test_double_dash_ends_options() -> None:
    parsed = getopt(["qsub", "-h", "--", "-x"], "h")
    assert parsed.options == [("h", "")] and parsed.operands == ["-x"]


def test_unknown_option_and_missing_argument_messages(capsys: pytest.CaptureFixture[str]) -> None:
    parsed = getopt(["/bin/qsub", "-k", "-N"], "hN:")
    assert parsed.errors == 2
    assert capsys.readouterr().err == ("/bin/qsub: invalid option -- 'k'\n"
                                       "/bin/qsub: option requires an argument -- 'N'\n")


def test_attached_argument() -> None:
    assert getopt(["qhold", "-hu", "1"], "h:").options == [("h", "u")]
