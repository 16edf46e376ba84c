"""`parse_qstat_json` on real qstat output and on every known way PBS breaks its JSON."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from watcher.pbs.parse import QstatDocument, parse_qstat_attributes, parse_qstat_json
from watcher.pbs.snapshot import JobSnapshot

DATA = Path(__file__).parents[1] / "testdata" / "qstat"
FIXTURES = DATA / "fixtures"


def read(name: str) -> str:
    return (DATA / name).read_text()


def fixture_stdout(name: str) -> str:
    """A fixture's qstat stdout: the file itself, or the `stdout` of a test-fixture wrapper."""
    text = (FIXTURES / name).read_text()
    return json.loads(text)["stdout"] if name.endswith(".fixture.json") else text


def assert_well_typed(doc: QstatDocument) -> None:
    for job_id, job in doc.jobs.items():
        assert isinstance(job, JobSnapshot) and job.id == job_id
        for name in (
            "name",
            "owner",
            "queue",
            "state",
            "hold_types",
            "comment",
            "depend",
            "submit_arguments",
        ):
            assert isinstance(getattr(job, name), str), name
        assert job.substate is None or type(job.substate) is int
        assert job.exit_status is None or type(job.exit_status) is int
        assert type(job.run_count) is int
        assert all(type(k) is str and type(v) is str for k, v in job.variables.items())
        json.dumps(job.attributes())  # what the store keeps must be plain JSON


QSTAT_FIXTURES = {
    # file: {job id: (owner, state, substate, exit_status, run_count)}
    "firecrest-v2__ssh_qstat_command.stdout.json": {"1.pbs": ("fireuser", "R", 42, None, 1)},
    "firecrest-v2__ssh_qstat_command.fixture.json": {"1.pbs": ("fireuser", "R", 42, None, 1)},
    "firecrest-v2__ssh_qstat_allusers_command.stdout.json": {
        "1004.pbs": ("fireuser", "F", 92, 0, 1),
        "1005.pbs": ("fireuser", "F", 92, 0, 1),
        "1006.pbs": ("firesrv", "R", 42, None, 1),
    },
    "firecrest-v2__ssh_qstat_allusers_command.fixture.json": {
        "1004.pbs": ("fireuser", "F", 92, 0, 1),
        "1005.pbs": ("fireuser", "F", 92, 0, 1),
        "1006.pbs": ("firesrv", "R", 42, None, 1),
    },
    "flow123d-swrap__testing_integrated_test_all.py__qstat_xf_F_json.json": {
        "12860476.meta-pbs.metacentrum.cz": ("jan_brezina", "R", 41, None, 1),
    },
    "pbs_monitor__qstat_x_f_F_json-output__EXCERPT_first_job.json": {
        "6617175.aurora-pbs-0001.hostmgmt.cm.aurora.alcf.anl.gov": ("wendyrw", "F", 93, -29, 15),
    },
    "pbs_monitor__qstat_x_f_F_json-output__EXCERPT_user_held_job.json": {
        "4905472.aurora-pbs-0001.hostmgmt.cm.aurora.alcf.anl.gov": ("mmin", "H", 20, None, 0),
    },
}


@pytest.mark.parametrize("name", sorted(QSTAT_FIXTURES))
def test_real_outputs_parse_with_the_right_types(name: str) -> None:
    doc = parse_qstat_json(fixture_stdout(name))
    assert doc.complete and not doc.skipped
    assert isinstance(doc.server, str) and isinstance(doc.timestamp, int)
    got = {
        job_id: (j.owner, j.state, j.substate, j.exit_status, j.run_count)
        for job_id, j in doc.jobs.items()
    }
    assert got == QSTAT_FIXTURES[name]
    assert_well_typed(doc)


def test_every_qstat_fixture_is_covered() -> None:
    jsons = {p.name for p in FIXTURES.glob("*.json")}
    not_qstat = {
        "firecrest-v2__ssh_qdel_command.fixture.json",
        "firecrest-v2__ssh_qsub_command.fixture.json",
    }
    assert jsons - not_qstat == set(QSTAT_FIXTURES)


def test_the_aurora_job_keeps_its_details() -> None:
    doc = parse_qstat_json(
        fixture_stdout("pbs_monitor__qstat_x_f_F_json-output__EXCERPT_first_job.json")
    )
    job = next(iter(doc.jobs.values()))
    assert job.comment.endswith("... and exceeded resource walltime")
    assert job.depend.startswith("beforeany:6617182.")
    assert job.submit_arguments == "-W depend=afterany:6617166 aurora_plinko_mov_r2_sim5.sh"
    assert job.raw["Resource_List"]["burn_ratio"] == 0.6334
    assert job.hold_types == "n" and job.queue == "tiny"


def test_numeric_variables_become_their_text() -> None:
    doc = parse_qstat_json(
        fixture_stdout("flow123d-swrap__testing_integrated_test_all.py__qstat_xf_F_json.json")
    )
    variables = next(iter(doc.jobs.values())).variables
    assert variables["PBS_RESC_MEM"] == "4294967296"
    assert variables["PBS_NGPUS"] == "0"
    assert variables["PBS_O_QUEUE"] == "charon_2h"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "no JSON object"),
        ("Connection refused\nqstat: cannot connect to server pbs (errno=111)\n", "no JSON"),
        ("1.pbs\n", "not a qstat document"),
        ('{"stdout": "", "exit_code": 0}', "not a qstat document"),
        ("[1, 2]", "not a qstat document"),
        ('{"timestamp":1,"Jobs":[1]}', "Jobs is a list"),
    ],
)
def test_what_is_not_a_qstat_document_is_incomplete(text: str, reason: str) -> None:
    doc = parse_qstat_json(text)
    assert not doc.complete and not doc.jobs
    assert reason in doc.skipped[0].reason


# file: (complete, job ids, skipped job ids (None = damage outside a job))
QUIRKS = {
    "leading_zeros.json": (True, {"101.pbs01"}, []),
    "all_zero_sha.json": (True, {"201.pbs01", "202.pbs01", "203.pbs01"}, []),
    "invalid_escapes.json": (True, {"301.pbs01"}, []),
    "control_chars.json": (True, {"401.pbs01"}, []),
    "bash_func.json": (True, {"501.pbs01", "502.pbs01"}, []),
    "garbled_middle.json": (True, {"601.pbs01", "603.pbs01"}, ["602.pbs01"]),
    "truncated_mid_job.json": (False, {"701.pbs01", "702.pbs01"}, ["703.pbs01", None]),
    "truncated_between_jobs.json": (False, {"701.pbs01", "702.pbs01"}, [None]),
    "no_jobs_redacted_timestamp.json": (True, set(), []),
    "stderr_before_json.txt": (True, set(), []),
    "table_before_json.txt": (True, set(), []),
    "cjson_tabs.json": (True, {"10.ip-10-0-6-176", "11.ip-10-0-6-176"}, []),
    "cjson_tabs_quirk.json": (True, {"12.ip-10-0-6-176", "13.ip-10-0-6-176"}, []),
    "empty_values.json": (True, {"801.pbs01"}, []),
    "stray_quotes.json": (True, {"901.pbs01"}, []),
    "strtod_numbers.json": (True, {"1001.pbs01"}, []),
    "trailing_backslash.json": (True, {"1101.pbs01"}, []),
    # A one-line document has no lines to anchor repairs to: its broken job is skipped.
    "compact_one_line.json": (True, {"1202.pbs01"}, ["1201.pbs01"]),
    "exit_statuses.json": (True, {"1301.pbs01", "1302.pbs01", "1303.pbs01", "1304.pbs01"}, []),
}


TEXTS = [*(fixture_stdout(n) for n in sorted(QSTAT_FIXTURES)),
         *(read(n) for n in sorted(QUIRKS))]


@pytest.mark.parametrize("text", TEXTS, ids=[*sorted(QSTAT_FIXTURES), *sorted(QUIRKS)])
def test_the_source_fast_path_gives_what_the_snapshots_give(text: str) -> None:
    """The PBS source builds attribute dicts directly; they must equal the snapshots' own."""
    slow, fast = parse_qstat_json(text), parse_qstat_attributes(text)
    assert fast.jobs == {job_id: job.attributes() for job_id, job in slow.jobs.items()}
    assert (fast.complete, fast.skipped, fast.server) == (slow.complete, slow.skipped, slow.server)


def test_every_quirk_sample_is_covered() -> None:
    samples = {p.name for p in DATA.iterdir() if p.is_file() and p.suffix in (".json", ".txt")}
    assert samples == set(QUIRKS)


@pytest.mark.parametrize("name", sorted(QUIRKS))
def test_quirks_parse_and_only_broken_jobs_are_skipped(name: str) -> None:
    complete, jobs, skipped = QUIRKS[name]
    doc = parse_qstat_json(read(name))
    assert doc.complete is complete
    assert set(doc.jobs) == jobs
    assert [s.job_id for s in doc.skipped] == skipped
    assert all(s.reason for s in doc.skipped)
    assert_well_typed(doc)


def variables(name: str, job_id: str) -> dict[str, str]:
    return parse_qstat_json(read(name)).jobs[job_id].variables


def test_leading_zeros_keep_their_text() -> None:
    doc = parse_qstat_json(read("leading_zeros.json"))
    job = doc.jobs["101.pbs01"]
    assert job.name == "007"
    assert {k: job.variables[k] for k in ("foo", "ZIP", "NEG", "ZERO")} == {
        "foo": "005",
        "ZIP": "02134",
        "NEG": "-007",
        "ZERO": "0",
    }
    assert doc.server == "pbs01" and doc.timestamp == 1752784748 and job.substate == 42


def test_all_zero_sha_survives_in_every_job() -> None:
    doc = parse_qstat_json(read("all_zero_sha.json"))
    assert doc.jobs["201.pbs01"].variables["CI_COMMIT_BEFORE_SHA"] == "0" * 40
    assert doc.jobs["203.pbs01"].owner == "bob"
    assert doc.jobs["202.pbs01"].variables["CI_JOB_ID"] == "12345"


def test_invalid_escapes_are_read_as_pbs_meant_them() -> None:
    got = variables("invalid_escapes.json", "301.pbs01")
    assert got["MYVAR"] == "ab,c"  # PBS escapes its own delimiter
    assert got["MYVAR2"] == "'\"asads\"'"
    assert got["WINPATH"] == "C:\\data\\x64"  # any other backslash is a backslash
    assert got["BADU"] == "\\u12G4"
    assert got["OK"] == "tab\there"


def test_raw_control_characters_are_kept() -> None:
    job = parse_qstat_json(read("control_chars.json")).jobs["401.pbs01"]
    assert job.comment == "bell\x07 and escape\x1b[0m in a comment"
    assert job.variables["SPLIT"] == "first\nsecond"
    assert job.variables["SOH"] == "\x01"


def test_bash_functions_from_qsub_dash_v() -> None:
    got = variables("bash_func.json", "501.pbs01")
    assert got["BASH_FUNC_module()"] == "() {  eval `/usr/bin/modulecmd bash $*`\n}"
    assert got["BASH_FUNC_ml%%"] == '() {  eval "$($LMOD_DIR/ml_cmd "$@")"\n}'
    assert got["BASH_FUNC_mc%%"].startswith('() {  if [ "$1" = x ]; then\n')
    assert got["BASH_FUNC_which%%"].endswith("--read-alias $@\n}")
    assert got["PBS_O_WORKDIR"] == "/home/alice/run"  # the lines after it are intact


def test_garbled_job_reason_names_the_line() -> None:
    doc = parse_qstat_json(read("garbled_middle.json"))
    assert "unreadable even after repair (line" in doc.skipped[0].reason


def test_header_survives_a_redacted_timestamp() -> None:
    doc = parse_qstat_json(read("no_jobs_redacted_timestamp.json"))
    assert (doc.server, doc.timestamp, doc.version) == (
        "gadi-pbs-01",
        None,
        "2024.1.2.20241017100211",
    )


def test_json_after_other_output_is_found() -> None:
    doc = parse_qstat_json(read("table_before_json.txt"))
    assert (doc.server, doc.timestamp) == ("VMa", 1749572608)
    doc = parse_qstat_json(read("stderr_before_json.txt"))
    assert doc.server == "polaris-pbs-01.hsn.cm.polaris.alcf.anl.gov"


def test_empty_and_strtod_values_become_text() -> None:
    got = variables("empty_values.json", "801.pbs01")
    assert got.items() >= {"FOO": "", "BAZ": "", "BAR": "x"}.items()
    job = parse_qstat_json(read("strtod_numbers.json")).jobs["1001.pbs01"]
    assert job.name == "123"
    expected = {
        "RATIO": "1.50",
        "EXP": "1E+05",
        "BIGINT": "4294967296",
        "PLUS": "+5",
        "DOT": ".5",
        "TRAIL": "5.",
        "HEX": "0x1A",
        "INF": "inf",
        "NAN": "nan",
    }
    assert {k: job.variables[k] for k in expected} == expected
    assert job.variables["HUGE"] == "9" * 5000


def test_stray_quotes_and_trailing_backslash() -> None:
    job = parse_qstat_json(read("stray_quotes.json")).jobs["901.pbs01"]
    assert job.name == 'say "hi"'
    assert job.comment == (
        'HEALTH-CHECK: /var/spool/pbs/reboot "zaskly sdileny scratch" (Sep 04 14:13 SCHEDULED)'
    )
    got = variables("trailing_backslash.json", "1101.pbs01")
    assert got["WIN"] == "C:\\data\\" and got["AFTER"] == "ok"


def test_exit_status_absent_for_a_deleted_queued_job() -> None:
    jobs = parse_qstat_json(read("exit_statuses.json")).jobs
    assert [jobs[f"130{i}.pbs01"].exit_status for i in (1, 2, 3, 4)] == [-29, 271, None, None]
    assert jobs["1304.pbs01"].hold_types == "s"
    assert jobs["1304.pbs01"].depend == "afterok:1301.pbs01@pbs01"


def test_select_builds_only_the_jobs_asked_for() -> None:
    text = read("all_zero_sha.json")
    doc = parse_qstat_json(text, select=lambda job_id, attrs: attrs["Job_Owner"].startswith("bob@"))
    assert set(doc.jobs) == {"203.pbs01"} and doc.complete
    valid = fixture_stdout("firecrest-v2__ssh_qstat_allusers_command.stdout.json")
    doc = parse_qstat_json(valid, select=lambda job_id, attrs: job_id == "1006.pbs")
    assert set(doc.jobs) == {"1006.pbs"}


def test_odd_value_types_are_tolerated() -> None:
    text = json.dumps(
        {
            "pbs_server": 7,
            "timestamp": "12",
            "Jobs": {
                "1.s": {
                    "Job_Name": None,
                    "Job_Owner": 42,
                    "substate": "42",
                    "Exit_status": 1.0,
                    "run_count": True,
                    "Hold_Types": ["u"],
                    "Variable_List": {"A": None, "B": True, "C": {"x": 1}},
                },
                "2.s": {"Variable_List": "A=1,B=x\\,y"},
                "3.s": "not an object",
            },
        }
    )
    doc = parse_qstat_json(text)
    assert_well_typed(doc)
    one = doc.jobs["1.s"]
    assert (one.name, one.owner, one.substate, one.exit_status, one.run_count) == (
        "",
        "42",
        42,
        1,
        0,
    )
    assert one.variables == {"A": "", "B": "true", "C": '{"x":1}'}
    assert doc.jobs["2.s"].variables == {"A": "1", "B": "x,y"}
    assert [s.job_id for s in doc.skipped] == ["3.s"]
    assert (doc.server, doc.timestamp) == ("7", 12)


GARBAGE = [
    '"',
    "\\",
    "{",
    "}",
    ",",
    ":",
    "0",
    "00",
    "\n",
    "\x00",
    "\x1b",
    "\t",
    "'",
    "é",
    "\\u",
    "[",
    '"Jobs":{',
    '\n        "9.x":{',
]


def garble(text: str, rng: random.Random) -> str:
    """One random damage of the kinds a broken qstat, pipe or terminal produces."""
    i, j = sorted(rng.randrange(len(text) + 1) for _ in range(2))
    match rng.randrange(5):
        case 0:
            return text[:i] + text[j:]  # a lost range
        case 1:
            return text[:i] + rng.choice(GARBAGE) * rng.randint(1, 3) + text[i:]
        case 2:
            return text[:j] + text[i:j] + text[j:]  # a repeated range
        case 3:
            return text[:i]  # truncated
        case _:
            return text[:i] + text[i:j][::-1] + text[j:]


def test_random_garbling_never_raises() -> None:
    rng = random.Random(20260423)
    sources = [read(name) for name in sorted(QUIRKS)] + [
        fixture_stdout(name) for name in sorted(QSTAT_FIXTURES)
    ]
    for _ in range(600):
        text = rng.choice(sources)
        for _ in range(rng.randint(1, 4)):
            text = garble(text, rng)
        doc = parse_qstat_json(text)
        assert_well_typed(doc)
        assert doc.complete or doc.skipped  # an incomplete answer always says why
