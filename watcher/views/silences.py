"""Adding a silence safely, for every face: a rule name or glob that is no known rule is
refused with a suggestion, so a typo does not silence nothing for hours."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Sequence
from pathlib import Path

from sqlmodel import Session, select

from watcher.lang.errors import did_you_mean
from watcher.rules.loader import load_rules
from watcher.service.staging_rules import staging_rules
from watcher.store.models import RuleState

# Rule names are letters, digits, '-' and '_'; a glob adds * ? [ ] and !.
_RULE_GLOB = re.compile(r"^[A-Za-z0-9_*?\[\]!-]+$")


class SilenceRefused(ValueError):
    """The silence cannot be added as asked; the message says why and what to do."""


def check_glob(rule: str) -> None:
    """Refuse what is neither a rule name nor a glob of names."""
    if not _RULE_GLOB.match(rule):
        raise SilenceRefused(f"expected a rule name or glob like 'storm-*' but got '{rule}'")


def known_rules(session: Session, rule_paths: Sequence[Path]) -> list[str]:
    """Rules of the rules directory (valid files), the staging rules, and rules with edge
    states in the store (a file now broken keeps its last good version in force)."""
    names = [rule.name for rule in load_rules(list(rule_paths)).rules]
    names += [rule.name for rule in staging_rules()]
    names += session.exec(select(RuleState.rule).distinct()).all()
    return sorted(set(names))


def check_known(rule: str, known: list[str]) -> None:
    """Refuse a name that is no rule (with a suggestion), or a glob that matches none."""
    if any(fnmatch.fnmatchcase(name, rule) for name in known):
        return
    glob = any(c in rule for c in "*?[")
    what = "matches no rule" if glob else "is not a rule"
    hint = "" if glob else did_you_mean(rule, known)
    raise SilenceRefused(f"'{rule}' {what}{hint}; see 'watcher rules list', or add --force to "
                         "silence it anyway")
