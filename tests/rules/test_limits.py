"""Hostile rule files are ordinary errors with file:line:column, answered fast (issue 11)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.rules.hostile import CORPUS, rule
from watcher.cli import cli
from watcher.rules.loader import load_rules


def _write(path: Path, content: str | bytes) -> Path:
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


@pytest.mark.parametrize(("name", "content", "expected"), CORPUS, ids=[c[0] for c in CORPUS])
def test_each_hostile_file_is_one_located_error(tmp_path: Path, name: str,
                                                content: str | bytes, expected: str) -> None:
    path = _write(tmp_path / name, content)
    started = time.monotonic()
    ruleset = load_rules([path])
    assert time.monotonic() - started < 10
    assert len(ruleset.errors) == 1, [str(error) for error in ruleset.errors]
    assert str(ruleset.errors[0]).startswith(f"{path}:")
    assert expected in str(ruleset.errors[0])


def test_rules_check_answers_the_whole_corpus_with_exit_1(tmp_path: Path) -> None:
    for name, content, _ in CORPUS:
        _write(tmp_path / name, content)
    _write(tmp_path / "good.yaml", rule("good"))
    result = CliRunner().invoke(cli, ["rules", "check", str(tmp_path)])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and "unexpected error" not in result.output
    assert f"{len(CORPUS)} errors in {len(CORPUS)} of {len(CORPUS) + 1} files" in result.output
    loaded = load_rules([tmp_path])
    assert [r.name for r in loaded.rules] == ["good"]  # the good file still loads


def test_aliases_and_merge_keys_within_limits_still_work(tmp_path: Path) -> None:
    text = """\
rules:
  - name: a
    when: &held {pbs_job: {state: H}}
    do: [&release {qrls: {job: "{{ job.id }}"}}]
  - {name: b, when: *held, do: [*release, *release]}
  - {<<: {when: *held, do: [*release]}, name: c}
"""
    ruleset = load_rules([_write(tmp_path / "r.yaml", text)])
    assert ruleset.errors == []
    assert [len(r.do) for r in ruleset.rules] == [1, 2, 1]


def test_rules_check_warns_about_templates_that_can_explode(tmp_path: Path) -> None:
    slow = ("{% for i in range(job.run_count) %}{% for j in range(99999) %}x{% endfor %}"
            "{% endfor %}{{ 'ab' * job.run_count }}{{ 2 ** job.run_count }}")
    recursive = "{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}"
    text = (rule("slow", job=slow.replace('"', "'"))
            + rule("deep", job=recursive).removeprefix("rules:\n")
            + rule("fine", job="{{ job.id }}-{{ 2 ** 10 }}-{{ 'x' * 3 }}").removeprefix("rules:\n"))
    ruleset = load_rules([_write(tmp_path / "r.yaml", text)])
    assert ruleset.errors == [] and len(ruleset.rules) == 3  # warned, still in force
    assert sorted(w.message.removeprefix("template can explode: ").split(" (")[0]
                  for w in ruleset.warnings) == [
        "'**' with a computed or large exponent can take seconds",
        "a string repeated by a computed count can grow large",
        "loops inside loops multiply",
        "macro 'f' calls itself",
        "range() of a computed or large size",
    ]
    assert {w.field_path for w in ruleset.warnings} == {"slow.do[0].qrls.job",
                                                        "deep.do[0].qrls.job"}
