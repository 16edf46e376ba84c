"""Reading qstat's Submit_arguments back into qsub argument lists, and changing them."""

from __future__ import annotations

import pytest

from watcher.pbs.submit_args import (
    QsubArgs,
    SubmitArgsError,
    comma_tokens,
    drop_w_attributes,
    parse_submit_arguments,
    quote_value,
    replace_resource,
    set_variables,
)


@pytest.mark.parametrize(("text", "argv"), [
    ("", []),
    ("job.sh", ["job.sh"]),
    # qstat shows argv joined by spaces; quotes the shell kept are part of the argument
    ("-N sim-a -v a=1,b='x,y' -l walltime=00:00:01",
     ["-N", "sim-a", "-v", "a=1,b='x,y'", "-l", "walltime=00:00:01"]),
    ("-l select=2:ncpus=4:mpiprocs=4,walltime=01:00:00 -j oe -o out.log run.sh",
     ["-l", "select=2:ncpus=4:mpiprocs=4,walltime=01:00:00", "-j", "oe", "-o", "out.log",
      "run.sh"]),
    ("-W depend=afterany:6617166 aurora_plinko_mov_r2_sim5.sh",  # real, ALCF Aurora fixture
     ["-W", "depend=afterany:6617166", "aurora_plinko_mov_r2_sim5.sh"]),
    ("-v F7T_version=v2.0.0", ["-v", "F7T_version=v2.0.0"]),  # real, a stdin script
    ("-lwalltime=1:00 -hz -Nname /abs/path/job.sh",  # getopt forms: attached, clustered
     ["-l", "walltime=1:00", "-h", "-z", "-N", "name", "/abs/path/job.sh"]),
    ("-p -10 job.sh", ["-p", "-10", "job.sh"]),  # a value may start with '-'
    ("-N exe -- /bin/sleep 10", ["-N", "exe", "--", "/bin/sleep", "10"]),
])
def test_parse_then_argv_gives_qsubs_arguments_back(text: str, argv: list[str]) -> None:
    assert parse_submit_arguments(text).argv() == argv


def test_the_script_operand_and_stdin_are_told_apart() -> None:
    assert parse_submit_arguments("-q prod-large s.bin").script == "s.bin"
    assert parse_submit_arguments("-v F7T_version=v2.0.0").script is None
    assert parse_submit_arguments("-N x -").script is None  # '-' is standard input


@pytest.mark.parametrize(("text", "message"), [
    ("-v MSG=hello world -l walltime=1 job.sh", "contained whitespace"),  # value had a space
    ("-N x my script.sh", "contained whitespace"),  # a path with a space, or two operands?
    ("-N  x job.sh", "contained whitespace"),  # two spaces: an argument with a space in it
    ("-x job.sh", "unknown qsub option -x"),
    ("-N", "qsub option -N has no value"),
    ("-N x --", "nothing follows '--'"),
])
def test_what_cannot_be_rebuilt_safely_is_refused(text: str, message: str) -> None:
    with pytest.raises(SubmitArgsError, match=message):
        parse_submit_arguments(text)


def test_comma_tokens_keep_quoted_commas_and_escapes() -> None:
    assert comma_tokens("a=1,b='x,y',c=\"p,q\",d=x\\,y,HOME") == [
        "a=1", "b='x,y'", 'c="p,q"', "d=x\\,y", "HOME"]


def test_walltime_is_replaced_inside_a_combined_resource_list() -> None:
    args = parse_submit_arguments("-l select=1:ncpus=1,walltime=00:00:01 -l mem=1gb job.sh")
    assert replace_resource(args, "walltime", "02:00:00").argv() == [
        "-l", "select=1:ncpus=1", "-l", "mem=1gb", "-l", "walltime=02:00:00", "job.sh"]


def test_a_resource_list_left_empty_is_dropped() -> None:
    args = parse_submit_arguments("-l walltime=00:00:01 job.sh")
    assert replace_resource(args, "walltime", "10").argv() == ["-l", "walltime=10", "job.sh"]


def test_depend_is_dropped_from_w_and_other_attributes_stay() -> None:
    args = parse_submit_arguments("-W depend=afterok:1.srv:2.srv,beforeok:3.srv,umask=022 "
                                  "-W depend=afterany:4 x.sh")
    assert drop_w_attributes(args, ["depend"]).argv() == ["-W", "umask=022", "x.sh"]


def test_a_w_value_that_is_not_an_attribute_list_passes_untouched() -> None:
    args = QsubArgs((("W", "garbled"),), "x.sh")
    assert drop_w_attributes(args, ["depend"]) == args


def test_variables_merge_into_the_last_v_list() -> None:
    args = parse_submit_arguments("-v ignored=1 -N n -v a=1,b='x,y',WATCHER_ATTEMPT=1,HOME j.sh")
    merged = set_variables(args, {"WATCHER_ATTEMPT": "2", "c": "p,q", "a": "3"},
                           known={"HOME": "/home/alice", "b": "x,y"},
                           drop=lambda name: name.startswith("WATCHER_"))
    assert merged.argv() == [
        "-N", "n", "-v", "b=x\\,y,HOME=/home/alice,WATCHER_ATTEMPT=2,c=p\\,q,a=3", "j.sh"]


def test_variables_are_added_when_there_was_no_v() -> None:
    assert set_variables(QsubArgs(), {"X": "1"}).argv() == ["-v", "X=1"]
    assert set_variables(parse_submit_arguments("-v OLD=1"), {}, drop=lambda n: True).argv() == []


@pytest.mark.parametrize(("value", "spelt"), [
    ("plain", "plain"), ("a,b", "a\\,b"), ("C:\\\\dir", "C:\\dir"), ("x\\\\", "x'\"\"'\"\""),
    ("x\\\\,y", "x'\"\"'\"\"\\,y"), ("a=b", "a=b"), ("é\nz", "é\nz"),
])
def test_values_are_spelt_so_real_qsub_passes_them_intact(value: str, spelt: str) -> None:
    assert quote_value(value) == spelt


@pytest.mark.parametrize(("value", "why"), [
    ("it's", "holds a quote"), ('say "x"', "holds a quote"), ("C:\\dir", "lone backslash"),
    ("x ", "ends in whitespace"),
])
def test_a_value_real_qsub_cannot_pass_is_refused(value: str, why: str) -> None:
    with pytest.raises(SubmitArgsError, match=f"variable 'V' .*{why}"):
        quote_value(value, "V")
