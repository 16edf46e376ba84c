"""The demo's report, from made-up outcomes: the table, the emails, the verdict, the JSON."""

from __future__ import annotations

from rich.console import Console

from watcher.demo.facts import Email
from watcher.demo.report import Outcome, as_json, email_lines, exit_code, render, verdict

GOOD = Outcome("A", "everything works", "1 email: done; ends done", "done; 1 email(s)", 2.31,
               "wf-aaaaaa")
BAD = Outcome("D", "the PBS queue is wiped", "no third job", "done; 3 job(s)", 9.0, "wf-dddddd",
              ("expected no third job, but PBS lists 3 job(s) of the workflow",))
MAIL = Email("you@example.org", "[watcher] wf-aaaaaa (A-happy-path): done",
             "Workflow wf-aaaaaa is done.\n\n  its output was staged out\nline 3\nline 4\n")


def rendered(*outcomes: Outcome, emails: tuple[Email, ...] = (MAIL,)) -> str:
    console = Console(record=True, width=160, force_terminal=False)
    render(console, outcomes, emails, 12.34)
    return console.export_text()


def test_every_scenario_behaved_exits_0_with_ticks_only() -> None:
    text = rendered(GOOD)
    assert exit_code([GOOD]) == 0
    assert "✓" in text and "✗" not in text
    for cell in ("A everything works", "wf-aaaaaa", "1 email: done; ends done",
                 "done; 1 email(s)", "2.3"):
        assert cell in text
    assert text.rstrip().endswith("All 1 scenarios behaved, in 12.3 s.")


def test_a_scenario_that_misbehaved_is_marked_and_its_broken_expectation_stated() -> None:
    text = rendered(GOOD, BAD)
    assert exit_code([GOOD, BAD]) == 1
    assert "✗ D: expected no third job, but PBS lists 3 job(s) of the workflow" in text
    assert "1 of 2 scenarios did not behave (D), in 12.3 s." in text


def test_no_scenario_at_all_is_not_success() -> None:
    assert exit_code([]) == 1


def test_emails_show_recipient_subject_and_the_first_body_lines() -> None:
    assert email_lines([MAIL]) == [
        "Emails received: 1",
        "  ✉ to you@example.org: [watcher] wf-aaaaaa (A-happy-path): done",
        "      Workflow wf-aaaaaa is done.",
        "      its output was staged out",
        "      line 3"]
    assert "✉ to you@example.org: [watcher] wf-aaaaaa (A-happy-path): done" in rendered(GOOD)


def test_markup_in_texts_is_shown_as_written() -> None:
    odd = Outcome("E", "[bold]x[/]", "[red]y", "[z]", 1.0)
    assert "[bold]x[/]" in rendered(odd, emails=())


def test_verdict_names_every_scenario_that_did_not_behave() -> None:
    other = Outcome("B", "b", "e", "o", 1.0, None, ("never submitted",))
    assert verdict([BAD, GOOD, other], 3.0) == (
        "2 of 3 scenarios did not behave (D, B), in 3.0 s.")


def test_json_carries_the_table_the_problems_and_the_emails() -> None:
    data = as_json([GOOD, BAD], [MAIL], 12.345)
    assert data["ok"] is False and data["seconds"] == 12.35
    assert [(s["scenario"], s["ok"], s["seconds"]) for s in data["scenarios"]] == [
        ("A", True, 2.31), ("D", False, 9.0)]
    assert data["scenarios"][1]["problems"] == list(BAD.problems)
    assert data["emails"] == [{"to": MAIL.to, "subject": MAIL.subject, "body": MAIL.body}]
