"""The staging rules: `watcher/workflows/staging.yaml`, shipped in the package.

The service adds them to the user's rules when it builds its engine, so workflows work
without copying anything, and `watcher rules list` / `status` keep showing the user's own
files. `rules/staging.yaml` in the repository is a copy for reading (a test keeps the two
equal). A user rule that takes one of their names (all start with `workflow-`) is left out,
loudly: two rules of one name would share their edge states in the store.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from watcher import workflows
from watcher.rules.loader import load_rules
from watcher.rules.model import Rule

log = logging.getLogger(__name__)

STAGING_RULES = Path(workflows.__file__).with_name("staging.yaml")


@cache
def staging_rules() -> tuple[Rule, ...]:
    """The packaged rules (loaded once; the file is part of the installed program)."""
    ruleset = load_rules([STAGING_RULES])
    ruleset.raise_for_errors()
    return tuple(ruleset.rules)


def with_staging(user_rules: Sequence[Rule]) -> list[Rule]:
    """The staging rules, then the user's rules that do not clash with them."""
    ours = staging_rules()
    names = {rule.name for rule in ours}
    for rule in user_rules:
        if rule.name in names:
            log.error("%s: rule '%s' has the name of a staging rule and is not in force "
                      "(rename it)", rule.source or "rules", rule.name)
    return [*ours, *(rule for rule in user_rules if rule.name not in names)]
