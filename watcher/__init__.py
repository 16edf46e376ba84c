"""watcher: trigger-action monitoring for PBS jobs and Globus transfers."""

import sys
from importlib.machinery import ModuleSpec, PathFinder
from pathlib import Path

__version__ = "0.1.0"


class _CheckoutActionsFinder:
    """Resolve `watcher.actions` to the checkout's top-level `actions/` folder.

    An installed watcher has `watcher/actions/` (setup.py maps the folder there). Imported
    straight from a source tree (`python -m pytest` in the repository puts the tree first on
    sys.path), `watcher` comes from the tree, so its actions must too: without this finder an
    editable install of another checkout could supply them, mixing two trees in one process.
    """

    def __init__(self, root: Path) -> None:
        self._root = str(root)

    def find_spec(
        self, fullname: str, path: object = None, target: object = None
    ) -> ModuleSpec | None:
        """Find only `watcher.actions`; every other name is left to the usual finders."""
        if fullname != "watcher.actions":
            return None
        return PathFinder.find_spec(fullname, [self._root])


def _install_checkout_finder() -> None:
    here = Path(__file__).resolve().parent
    if (here / "actions").is_dir() or not (here.parent / "actions" / "__init__.py").is_file():
        return
    sys.meta_path.insert(0, _CheckoutActionsFinder(here.parent))


_install_checkout_finder()
