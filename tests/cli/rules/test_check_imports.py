"""`watcher rules check` validates parameters, it runs nothing: it must not import the store
(SQLAlchemy), the Globus SDK or the SMTP client. Action modules import those late, inside
`execute` (see `watcher.actions.base`); this is what keeps `rules check` quick, and it is
asserted as the modules imported, not as a time."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
HEAVY = ("sqlalchemy", "sqlmodel", "globus_sdk", "aiosmtplib", "psycopg", "apscheduler",
         "requests", "prometheus_client")
CODE = """\
import sys
from watcher.cli import cli
try:
    cli.main(["rules", "check", *sys.argv[1:]], prog_name="watcher")
except SystemExit as exc:
    assert exc.code in (0, None), exc.code
from watcher.actions import ACTIONS
models = [ACTIONS[name].params for name in ACTIONS]  # every action's Params, as a rule may use
print("IMPORTED", *sorted(sys.modules))
"""


def _imported(*args: str) -> set[str]:
    done = subprocess.run([sys.executable, "-c", CODE, *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    line = next(line for line in done.stdout.splitlines() if line.startswith("IMPORTED "))
    return set(line.split()[1:])


def test_rules_check_imports_no_store_no_globus_sdk_no_smtp_client():
    modules = _imported(str(ROOT / "rules"))
    assert "watcher.rules.loader" in modules and "watcher.actions.transfer" in modules
    assert sorted(m for m in modules if m.split(".")[0] in HEAVY) == []
    assert sorted(m for m in modules if m.startswith(("watcher.store.", "watcher.ledger.",
                                                      "watcher.engine."))) == []
