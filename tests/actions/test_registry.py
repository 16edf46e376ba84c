"""The registry names each action once: the YAML key is the module, imported on first use."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from watcher.actions import ACTIONS

ACTIONS_DIR = Path(__file__).resolve().parents[2] / "actions"
HELPERS = {"__init__", "base", "registry", "effects", "pbs_outcome", "digest", "workflow_run"}


def test_every_action_module_is_registered_under_its_own_name():
    modules = {p.stem for p in ACTIONS_DIR.glob("*.py")} - HELPERS
    assert sorted(modules) == sorted(ACTIONS)
    for name, action in ACTIONS.items():
        assert action.name == name
        assert action.params.__module__ == f"watcher.actions.{name}"
        assert action.summary == ACTIONS.summary(name)


def test_an_unknown_name_is_a_key_error_not_an_import():
    assert "qrel" not in ACTIONS
    with pytest.raises(KeyError):
        ACTIONS["qrel"]
    with pytest.raises(KeyError):
        ACTIONS["base"]  # a helper module is not an action


def test_listing_names_imports_no_action_and_a_lookup_imports_one():
    code = ("import sys; from watcher.actions import ACTIONS; names = list(ACTIONS); "
            "assert 'qrls' in ACTIONS; ACTIONS['qdel']; "
            "print(sorted(m for m in sys.modules if m.startswith('watcher.actions.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == str(["watcher.actions.base", "watcher.actions.pbs_outcome",
                               "watcher.actions.qdel", "watcher.actions.registry"])
