"""qsub option rules: command line beats #PBS directives, -W pairs, unsupported options."""

from __future__ import annotations

import pytest

from watcher.sim.pbs.qsub_opts import (
    QsubError,
    Request,
    directive_options,
    directives,
    parse_equal_string,
)

SCRIPT = """#!/bin/bash
#PBS -N from_script
#PBS -l walltime=00:10:00,ncpus=2
# a comment
#PBS -j oe
echo start
#PBS -N ignored_after_first_command
"""


def test_directives_stop_at_the_first_command() -> None:
    assert directives(SCRIPT, "#PBS") == [["-N", "from_script"],
                                          ["-l", "walltime=00:10:00,ncpus=2"], ["-j", "oe"]]
    assert directives(SCRIPT, "") == []


def test_command_line_wins_over_directives_per_option_and_per_resource() -> None:
    request = Request()
    assert request.apply([("N", "cli"), ("l", "walltime=60")], primary=True) == []
    assert request.apply(directive_options(SCRIPT, "#PBS"), primary=False) == []
    assert request.single == {"N": "cli", "j": "oe"}
    assert request.resources == {"walltime": "00:01:00", "ncpus": "2"}


def test_bad_values_are_reported_with_pbs_texts() -> None:
    errors = Request().apply([("l", "walltime=x"), ("r", "maybe"), ("W", "depend=afterok"),
                              ("j", "xx")], primary=True)
    assert errors == ["qsub: illegal -l value\n", "qsub: illegal -r value\n",
                      "qsub: illegal -W value\n", "qsub: illegal -j value\n"]


def test_options_the_simulator_leaves_out_say_so() -> None:
    with pytest.raises(QsubError, match="-I \\(interactive jobs\\) is not supported"):
        Request().apply([("I", "")], primary=True)
    with pytest.raises(QsubError, match="-W sandbox is not supported"):
        Request().apply([("W", "sandbox=PRIVATE")], primary=True)


def test_w_pairs_keep_commas_of_depend_values() -> None:
    assert parse_equal_string("depend=afterok:1,afterany:2,umask=022") == [
        ("depend", "afterok:1,afterany:2"), ("umask", "022")]
    assert parse_equal_string("=x") is None
    assert parse_equal_string("depend=") is None

