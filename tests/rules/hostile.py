"""Hostile and broken rule files, generated: the findings of the attack campaign (issue 11).

Each entry is (file name, content, a fragment of the one error the loader must answer with).
Generated rather than stored: a 500-level file or an alias bomb is clearer as the line that
makes it than as the bytes it is.
"""

from __future__ import annotations

RULE = """rules:
  - name: {name}
    when: {{pbs_job: {{state: R}}}}
{extra}    do: [{{qrls: {{job: "{job}"}}}}]
"""


def rule(name: str, *, extra: str = "", job: str = "1.srv") -> str:
    return RULE.format(name=name, extra=extra, job=job)


def alias_bomb(levels: int = 9, width: int = 9) -> str:
    """The 442-byte billion laughs: each level an alias list of the one before."""
    lines = ["x0: &a0 [" + ", ".join(['"lol"'] * width) + "]"]
    lines += [f"x{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]"
              for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def block_deep(depth: int) -> str:
    return "rules: []\nvars:\n" + "".join(" " * (i + 1) + "a:\n" for i in range(depth)) + \
        " " * (depth + 1) + "b\n"


CORPUS: list[tuple[str, str | bytes, str]] = [
    ("for-inf.yaml", rule("inf", extra="    for: .inf\n"),
     "4:10: inf.for: expected a duration of at most 3650d but got 'inf'"),
    ("for-huge.yaml", rule("huge", extra="    for: 99999999999999999999d\n"),
     "4:10: huge.for: expected a duration of at most 3650d"),
    ("cooldown-nan.yaml", rule("nan", extra="    cooldown: .nan\n"),
     "4:15: nan.cooldown: expected a positive duration"),
    ("deep-flow-map.yaml", "rules: []\nvars: " + "{a: " * 500 + "1" + "}" * 500 + "\n",
     "2:167: nested more than 40 levels deep"),
    ("deep-flow-seq.yaml", "rules: " + "[" * 500 + "]" * 500 + "\n",
     "1:48: nested more than 40 levels deep"),
    ("deep-block.yaml", block_deep(500), "42:41: nested more than 40 levels deep"),
    ("parens.yaml", rule("parens", job="{{ " + "(" * 100 + "1" + ")" * 100 + " }}"),
     "parens.do[0].qrls.job: template refused: template nested more than 20 brackets deep"),
    ("minus.yaml", rule("minus", job="{{ " + "-" * 2000 + "1 }}"),
     "minus.do[0].qrls.job: template refused: nested too deeply"),
    ("long-template.yaml", rule("long", job="{{ 1 }}" + "x" * 20_000),
     "template refused: template is 20,007 characters, over the limit of 10,000"),
    ("bomb.yaml", alias_bomb(), "6:5: expands to more than 100,000 values through aliases"),
    ("many-aliases.yaml", "a: &a 1\nb: [" + ", ".join(["*a"] * 1001) + "]\n",
     "2:4005: more than 1000 aliases"),
    ("recursive.yaml", "a: &a [*a]\n", "recursive alias"),
    ("exit-float.yaml", "rules:\n  - name: xf\n    when: {pbs_job: {exit_status: 1.5}}\n"
                        "    do: [{qrls: {job: '1'}}]\n",
     "3:35: xf.when.pbs_job.exit_status: expected a whole number but got 1.5"),
    ("binary.yaml", "rules:\n  - name: !!binary aGVsbG8=\n    when: {pbs_job: {state: R}}\n"
                    "    do: [{qrls: {job: '1'}}]\n",
     "2:11: rules[0].name: unsupported YAML tag '!!binary'"),
    ("python-tag.yaml", "rules: !!python/object:os.system {}\n",
     "1:8: rules: unsupported YAML tag '!!python/object:os.system'"),
    ("latin1.yaml", b"rules:\n  - name: caf\xe9\n", "2:14: not UTF-8 text"),
    ("control.yaml", "rules:\n  - name: a\x01b\n",
     "2:12: invalid YAML: control character U+0001 is not allowed"),
    ("too-big.yaml", "# " + "x" * (1024 * 1024) + "\n", "over the limit of 1,048,576 bytes"),
    ("many-rules.yaml", "rules:\n" + "".join(
        f"  - {{name: r{i}, when: source_down, do: [{{qrls: {{job: '1'}}}}]}}\n"
        for i in range(1001)), "1002:5: r1000: more than 1000 rules in one file"),
]
