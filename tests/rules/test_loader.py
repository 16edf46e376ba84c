"""Loading rule files: every error with its line, column and field, and none stopping others."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from watcher.actions import ACTIONS
from watcher.rules.loader import RuleLoadError, load_rule_text, load_rules
from watcher.rules.model import ActionCall, Condition, Rule, Trigger
from watcher.triggers import TRIGGERS

TESTDATA = Path(__file__).parent.parent / "testdata" / "rules"


def errors(text: str) -> list[str]:
    return [str(error) for error in load_rule_text(text, "t.yaml").errors]


# Each snippet must be rejected with exactly these errors ("{actions}", "{triggers}": the
# registered names, which grow as action and trigger types are added).
INVALID = [
    ('unknown-trigger-key', """\
rules:
  - name: r
    when: {pbs_job: {stat: F}}
    do: [{qdel: {job: x}}]
""", [
        "t.yaml:3:22: r.when.pbs_job.stat: unknown key 'stat' (did you mean 'state'?)",
    ]),
    ('unknown-action', """\
rules:
  - name: r
    when: {pbs_job: {state: F}}
    do:
      - qrel: {job: x}
""", [
        "t.yaml:5:9: r.do[0].qrel: expected one of {actions} but got 'qrel' (did you mean "
        "'qrls'?)",
    ]),
    ('unknown-trigger', """\
rules:
  - name: r
    when:
      - pbs_jobs: {state: F}
    do: [{qdel: {job: x}}]
""", [
        "t.yaml:4:9: r.when[0].pbs_jobs: expected one of {triggers} but "
        "got 'pbs_jobs' (did you mean 'pbs_job'?)",
    ]),
    ('bare-unknown-trigger', """\
rules:
  - name: r
    when: source_dwn
    do: [{qdel: {job: x}}]
""", [
        "t.yaml:3:11: r.when: expected one of {triggers} but got "
        "'source_dwn' (did you mean 'source_down'?)",
    ]),
    ('unknown-condition', """\
rules:
  - name: r
    when: {pbs_job: {state: F}}
    conditions: [{subjet: {state: F}}]
    do: [{qdel: {job: x}}]
""", [
        't.yaml:4:19: r.conditions[0].subjet: expected one of subject, time, template but '
        "got 'subjet' (did you mean 'subject'?)",
    ]),
    ('unknown-rule-key', """\
rules:
  - name: r
    when: {pbs_job: {state: F}}
    do: [{qdel: {job: x}}]
    cooldwn: 5m
""", [
        "t.yaml:5:5: r.cooldwn: unknown key 'cooldwn' (did you mean 'cooldown'?)",
    ]),
    ('source-key-reserved', """\
rules:
  - name: r
    when: {pbs_job: {state: F}}
    do: [{qdel: {job: x}}]
    source: x.yaml
""", [
        "t.yaml:5:5: r.source: unknown key 'source'",
    ]),
    ('unknown-top-key', """\
rule:
  - name: r
""", [
        "t.yaml:1:1: rule: unknown key 'rule' (did you mean 'rules'?)",
    ]),
    ('missing-name-when-do', """\
rules:
  - description: nothing else
""", [
        "t.yaml:2:5: rules[0]: missing required key 'name'",
        "t.yaml:2:5: rules[0]: missing required key 'when'",
        "t.yaml:2:5: rules[0]: missing required key 'do'",
    ]),
    ('missing-action-param', """\
rules:
  - name: r
    when: {pbs_job: {state: F}}
    do:
      - qrls: {hold: u}
""", [
        "t.yaml:5:9: r.do[0].qrls: missing required key 'job'",
    ]),
    ('unknown-action-param', """\
rules:
  - name: r
    when: {pbs_job: {state: F}}
    do:
      - qrls:
          jobb: "{{ job.id }}"
""", [
        "t.yaml:5:9: r.do[0].qrls: missing required key 'job'",
        "t.yaml:6:11: r.do[0].qrls.jobb: unknown key 'jobb' (did you mean 'job'?)",
    ]),
    ('bad-literal-param', """\
rules:
  - name: r
    when: {pbs_job: {state: F}}
    do:
      - qhold: {job: x, hold: q}
""", [
        "t.yaml:5:31: r.do[0].qhold.hold: expected one of u, o, s but got 'q'",
    ]),
    ('template-syntax', """\
rules:
  - name: r
    when: {pbs_job: {state: F}}
    do:
      - qdel: {job: "{{ job.id "}
""", [
        't.yaml:5:21: r.do[0].qdel.job: template syntax error: unexpected end of template, '
        "expected 'end of print statement' (template line 1)",
    ]),
    ('action-params-not-mapping', """\
rules:
  - name: r
    when: {pbs_job: {state: F}}
    do:
      - qdel: 1234.srv
""", [
        't.yaml:5:15: r.do[0].qdel: expected a mapping of parameters but got a string',
    ]),
    ('two-actions-one-item', """\
rules:
  - name: r
    when: {pbs_job: {state: F}}
    do:
      - qrls: {job: a}
        qdel: {job: b}
""", [
        "t.yaml:5:9: r.do[0]: expected one action per item but got 2 keys: 'qrls', 'qdel' "
        '(write them as separate list items)',
    ]),
    ('mis-indented-param', """\
rules:
  - name: r
    when: {pbs_job: {state: F}}
    do:
      - qrls:
        job: a
""", [
        "t.yaml:6:9: r.do[0].job: unexpected key 'job' next to 'qrls': an action has one key "
        "(indent 'job' under 'qrls' if it belongs to it)",
    ]),
    ('empty-do', """\
rules:
  - name: r
    when: {pbs_job: {state: F}}
    do: []
""", [
        "t.yaml:4:9: r.do: expected at least one action like {qrls: {job: '1234.server'}}",
    ]),
    ('null-when', """\
rules:
  - name: r
    when:
    do: [{qdel: {job: x}}]
""", [
        't.yaml:3:10: r.when: expected at least one trigger like {pbs_job: {state: R}}',
    ]),
    ('bad-name', """\
rules:
  - name: release held
    when: {pbs_job: {state: F}}
    do: [{qdel: {job: x}}]
""", [
        "t.yaml:2:11: rules[0].name: expected letters, digits, '-' and '_' but got 'release "
        "held'",
    ]),
    ('bad-state', """\
rules:
  - name: r
    when: {pbs_job: {state: [F, r]}}
    do: [{qdel: {job: x}}]
""", [
        't.yaml:3:29: r.when.pbs_job.state: expected one of Q, R, H, W, T, E, F, X, B, M, S, '
        "U but got 'r' (did you mean 'R'?)",
    ]),
    ('bad-matcher', """\
rules:
  - name: r
    when: {pbs_job: {exit_status: ">= zero"}}
    do: [{qdel: {job: x}}]
""", [
        "t.yaml:3:35: r.when.pbs_job.exit_status: expected a number after '>=' but got 'zero'",
    ]),
    ('bad-range', """\
rules:
  - name: r
    when: {pbs_job: {substate: "93..90"}}
    do: [{qdel: {job: x}}]
""", [
        "t.yaml:3:32: r.when.pbs_job.substate: range '93..90' is empty: its low end is above "
        'its high end',
    ]),
    ('bad-duration', """\
rules:
  - name: r
    when: {pbs_job: {state: H}}
    for: 30 minuets
    do: [{qdel: {job: x}}]
""", [
        "t.yaml:4:10: r.for: expected a duration like '30s', '2m', '1h30m', '1d', '01:30:00' "
        "or seconds but got '30 minuets'",
    ]),
    ('bad-bool', """\
rules:
  - name: r
    enabled: maybe
    when: {pbs_job: {state: H}}
    do: [{qdel: {job: x}}]
""", [
        "t.yaml:3:14: r.enabled: expected true or false but got 'maybe'",
    ]),
    ('once-and-max-fires', """\
rules:
  - name: r
    once: true
    max_fires: 2
    when: {pbs_job: {state: H}}
    do: [{qdel: {job: x}}]
""", [
        "t.yaml:2:5: r: at most one of 'once' and 'max_fires': 'once' is 'max_fires: 1'",
    ]),
    ('max-fires-zero', """\
rules:
  - name: r
    max_fires: 0
    when: {pbs_job: {state: H}}
    do: [{qdel: {job: x}}]
""", [
        "t.yaml:3:16: r.max_fires: expected a number >= 1 but got '0'",
    ]),
    ('vanished-and-from', """\
rules:
  - name: r
    when:
      pbs_job:
        vanished: true
        from: {state: R}
    do: [{qdel: {job: x}}]
""", [
        "t.yaml:4:7: r.when.pbs_job: at most one of 'vanished' and 'from': with 'vanished' "
        "the levels already apply to the job's last known attributes",
    ]),
    ('unknown-source', """\
rules:
  - name: r
    when: {source_down: pbss}
    do: [{qdel: {job: x}}]
""", [
        "t.yaml:3:25: r.when.source_down: expected one of pbs, globus, quota but got 'pbss' "
        "(did you mean 'pbs'?)",
    ]),
    ('subject-unknown-field', """\
rules:
  - name: r
    when: {pbs_job: {state: F}}
    conditions:
      - subject: {exit_statu: 0}
    do: [{qdel: {job: x}}]
""", [
        "t.yaml:5:19: r.conditions[0].subject.exit_statu: unknown field 'exit_statu' of "
        "pbs_job subjects (did you mean 'exit_status'?)",
    ]),
    ('bad-weekday', """\
rules:
  - name: r
    when: {pbs_job: {state: F}}
    conditions:
      - time: {after: 18:00, weekdays: [mon, thurs]}
    do: [{qdel: {job: x}}]
""", [
        't.yaml:5:40: r.conditions[0].time.weekdays: expected one of mon, tue, wed, thu, '
        "fri, sat, sun but got 'thurs' (did you mean 'thu'?)",
    ]),
    ('template-condition-syntax', """\
rules:
  - name: r
    when: {pbs_job: {state: F}}
    conditions:
      - template: "{{ job.id == }}"
    do: [{qdel: {job: x}}]
""", [
        "t.yaml:5:19: r.conditions[0].template: template syntax error: unexpected 'end of "
        "print statement' (template line 1)",
    ]),
    ('duplicate-yaml-key', """\
rules:
  - name: r
    when: {pbs_job: {state: F}}
    do: [{qdel: {job: x}}]
    do: [{qrls: {job: x}}]
""", [
        "t.yaml:5:5: r.do: duplicate key 'do' (first at line 4)",
    ]),
    ('duplicate-rule-name', """\
rules:
  - name: r
    when: {pbs_job: {state: F}}
    do: [{qdel: {job: x}}]
  - name: r
    when: {pbs_job: {state: R}}
    do: [{qdel: {job: x}}]
""", [
        "t.yaml:5:11: r.name: duplicate rule name 'r' (first defined at t.yaml:2)",
    ]),
    ('yaml-syntax', """\
rules:
  - name: r
    when: {pbs_job: {state: F}
    do: [{qdel: {job: x}}]
""", [
        # The mistake is the unclosed '{' of line 3, not line 4 where PyYAML noticed it.
        "t.yaml:3:11: invalid YAML: this '{' is not closed (expected ',' or '}' but got "
        "'<scalar>' at line 4)",
    ]),
    ('rules-not-list', """\
rules: {name: r}
""", [
        't.yaml:1:8: rules: expected a list of rules but got a mapping',
    ]),
    ('rule-not-mapping', """\
rules:
  - just a string
""", [
        't.yaml:2:5: rules[0]: expected a rule (a mapping with name, when and do) but got a '
        'string',
    ]),
    ('top-level-list', """\
- name: r
""", [
        "t.yaml:1:1: expected a mapping with a 'rules' list but got a list",
    ]),
    ('trigger-config-not-mapping', """\
rules:
  - name: r
    when: {pbs_job: [state, F]}
    do: [{qdel: {job: x}}]
""", [
        't.yaml:3:21: r.when.pbs_job: expected a mapping but got a list',
    ]),
]


@pytest.mark.parametrize(("text", "expected"), [case[1:] for case in INVALID],
                         ids=[case[0] for case in INVALID])
def test_invalid(text: str, expected: list[str]) -> None:
    names = {"{actions}": ", ".join(ACTIONS), "{triggers}": ", ".join(TRIGGERS)}
    assert errors(text) == [_fill(line, names) for line in expected]


def _fill(line: str, names: dict[str, str]) -> str:
    for placeholder, value in names.items():
        line = line.replace(placeholder, value)
    return line


def test_every_error_at_once() -> None:
    found = errors("""\
rules:
  - name: one
    when: {pbs_job: {stat: F}}
    for: soon
    do: [{qrls: {jobb: x}}]
  - name: two
    when: source_dwn
    do: [{qdel: {job: "{{ x "}}]
""")
    assert [error.split(": ")[0] for error in found] == [
        "t.yaml:3:22", "t.yaml:4:10", "t.yaml:5:11", "t.yaml:5:18", "t.yaml:7:11", "t.yaml:8:23"]


def test_valid_forms() -> None:
    ruleset = load_rules([TESTDATA / "valid"])
    assert ruleset.errors == []
    assert [rule.name for rule in ruleset.rules] == [
        "release-post", "pbs-down-hold", "walltime-hold", "gone", "back"]
    rules = ruleset.by_name()
    post = rules["release-post"]
    assert [str(t) for t in post.when] == ["pbs_job(name=sim, state=F, exit_status=0)"]
    assert post.do == [ActionCall(type="qrls", params={"job": "{{ vars.post }}"}, line=5)]
    assert [str(a) for a in rules["pbs-down-hold"].do] == ["qhold(job=101.srv, hold=u)",
                                                           "qdel(job=102.srv)"]
    assert str(rules["pbs-down-hold"].when[0]) == "source_down()"
    hold = rules["walltime-hold"]
    assert not hold.enabled
    assert hold.for_ == timedelta(hours=1, minutes=30)
    assert hold.cooldown == timedelta(minutes=10)
    assert hold.max_fires == 3
    assert [str(t) for t in hold.when] == [
        "pbs_job(name=sim-*, exit_status=-29)",
        "pbs_job(id=12345, state=[F, E], from={state=R})"]
    assert [str(c) for c in hold.conditions] == [
        "subject(run_count=< 3, variables.STAGE=final*)",
        "time(after=08:00, before=18:00, weekdays=[mon, tue, wed, thu, fri])",
        "template(value={{ job.run_count < 3 }})"]
    assert rules["gone"].once
    assert str(rules["back"].when[0]) == "source_up(source=globus)"


def test_lines_of_rules_and_entries() -> None:
    rule = load_rules([TESTDATA / "valid" / "b-more.yml"]).by_name()["walltime-hold"]
    assert rule.source is not None
    assert (rule.source.path.name, rule.source.line) == ("b-more.yml", 2)
    assert [t.line for t in rule.when] == [5, 6]
    assert [c.line for c in rule.conditions] == [11, 12, 13]
    assert [a.line for a in rule.do] == [18]


def test_directory_takes_yaml_and_yml_sorted() -> None:
    ruleset = load_rules([TESTDATA / "valid"])
    assert [path.name for path in ruleset.files] == ["a-chain.yaml", "b-more.yml"]
    status = ruleset.files[TESTDATA / "valid" / "b-more.yml"]
    assert (status.valid, status.errors, status.rules, len(status.sha256)) == (True, 0, 3, 64)


def test_bad_file_does_not_stop_the_others() -> None:
    mixed = TESTDATA / "mixed"
    ruleset = load_rules([mixed])
    assert [str(error).replace(str(mixed) + "/", "") for error in ruleset.errors] == [
        "2-bad.yaml:7:17: broken-rule.when.pbs_job.stat: unknown key 'stat' "
        "(did you mean 'state'?)",
        f"2-bad.yaml:9:9: broken-rule.do[0].qrel: expected one of {', '.join(ACTIONS)} "
        "but got 'qrel' (did you mean 'qrls'?)",
        "3-dup.yaml:5:11: shared-name.name: duplicate rule name 'shared-name' (first defined "
        "at 1-good.yaml:2)",
    ]
    # An invalid file loads none of its rules; the duplicate is the later file's error.
    assert [rule.name for rule in ruleset.rules] == ["shared-name", "last-rule"]
    assert {path.name: (s.valid, s.errors, s.rules) for path, s in ruleset.files.items()} == {
        "1-good.yaml": (True, 0, 1), "2-bad.yaml": (False, 2, 2),
        "3-dup.yaml": (False, 1, 2), "4-good.yaml": (True, 0, 1)}


def test_missing_path_is_an_error(tmp_path: Path) -> None:
    ruleset = load_rules([tmp_path / "nope.yaml", TESTDATA / "mixed" / "4-good.yaml"])
    assert [str(error) for error in ruleset.errors] == [
        f"{tmp_path}/nope.yaml: no such file or directory"]
    assert [rule.name for rule in ruleset.rules] == ["last-rule"]


def test_unreadable_and_undecodable_files(tmp_path: Path) -> None:
    (tmp_path / "latin1.yaml").write_bytes(b"rules: []\n# caf\xe9\n")
    ruleset = load_rules([tmp_path])
    assert [str(error) for error in ruleset.errors] == [
        f"{tmp_path}/latin1.yaml:2:6: not UTF-8 text: invalid continuation byte (byte 0xe9)"]
    assert not ruleset.files[tmp_path / "latin1.yaml"].valid


def test_empty_files_are_valid(tmp_path: Path) -> None:
    (tmp_path / "empty.yaml").write_text("")
    (tmp_path / "none.yaml").write_text("rules:\n")
    (tmp_path / "comment.yaml").write_text("# nothing yet\n")
    ruleset = load_rules([tmp_path])
    assert ruleset.ok and ruleset.rules == [] and len(ruleset.files) == 3


def test_hash_follows_content(tmp_path: Path) -> None:
    shutil.copy(TESTDATA / "mixed" / "4-good.yaml", tmp_path / "r.yaml")
    before = load_rules([tmp_path]).files[tmp_path / "r.yaml"].sha256
    (tmp_path / "r.yaml").write_text((tmp_path / "r.yaml").read_text() + "# edited\n")
    assert load_rules([tmp_path]).files[tmp_path / "r.yaml"].sha256 != before


def test_raise_for_errors() -> None:
    ruleset = load_rule_text("rules: [{name: r}]", "w.yaml")
    with pytest.raises(RuleLoadError) as excinfo:
        ruleset.raise_for_errors()
    assert str(excinfo.value) == ("w.yaml:1:9: r: missing required key 'when'\n"
                                  "w.yaml:1:9: r: missing required key 'do'")
    load_rule_text("rules: []").raise_for_errors()


def test_taken_names_count_as_defined() -> None:
    text = "rules: [{name: wf-1-release, when: source_down, do: {qrls: {job: 1.srv}}}]"
    assert load_rule_text(text, "wf.yaml").ok
    assert [str(e) for e in load_rule_text(text, "wf.yaml", taken=["wf-1-release"]).errors] \
        == ["wf.yaml:1:16: wf-1-release.name: duplicate rule name 'wf-1-release' (first "
            "defined at <loaded>)"]


def test_yaml_1_1_surprises_are_avoided() -> None:
    rule = load_rule_text("""\
rules:
  - name: r
    when: {pbs_job: {name: "12:30"}}
    conditions: [{time: {before: 18:30}}]
    do: [{qdel: {job: x}}]
""").rules[0]
    assert str(rule.conditions[0]) == "time(before=18:30)"


def test_anchors_and_merge_keys() -> None:
    ruleset = load_rule_text("""\
defaults: &defaults
  when: {pbs_job: {state: F}}
""")
    assert [str(e) for e in ruleset.errors] == [
        "<text>:1:1: defaults: unknown key 'defaults'"]
    ruleset = load_rule_text("""\
rules:
  - &base
    name: a
    when: {pbs_job: {state: F}}
    do: [{qdel: {job: x}}]
  - <<: *base
    name: b
""")
    assert ruleset.ok, ruleset.errors
    assert [str(rule.when[0]) for rule in ruleset.rules] == ["pbs_job(state=F)"] * 2


def test_model_validate_on_plain_data() -> None:
    rule = Rule.model_validate({
        "name": "plain", "when": {"pbs_job": {"state": "R"}}, "for": 60,
        "conditions": [{"time": {"after": "08:00"}}], "do": [{"qdel": {"job": "{{ job.id }}"}}],
    })
    assert isinstance(rule.when[0], Trigger) and isinstance(rule.conditions[0], Condition)
    assert rule.for_ == timedelta(minutes=1)
    with pytest.raises(ValueError, match=r"when\n  Value error, pbs_job\.stat: unknown key"):
        Rule.model_validate({"name": "x", "when": {"pbs_job": {"stat": "R"}},
                             "do": [{"qdel": {"job": "1"}}]})


def test_examples_shipped_in_rules_dir_load() -> None:
    examples = Path(__file__).parents[2] / "rules"
    ruleset = load_rules([examples])
    assert ruleset.errors == []
    assert len(ruleset.files) >= 1
    assert all(rule.description for rule in ruleset.rules)
