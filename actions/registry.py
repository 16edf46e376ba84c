"""The registry of actions: each name written once, its module imported on first use.

An action called `name` in a rule file is the module `watcher.actions.<name>` (its `Params` and
`execute`). Listing the names, or checking that a name exists, imports nothing; looking one up
imports that module alone, so `watcher rules check` pays only for the actions its rules use.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping

from watcher.actions.base import ActionType


class ActionRegistry(Mapping[str, ActionType]):
    """`{name: ActionType}`, built from `{name: summary}` and the modules of `package`."""

    def __init__(self, summaries: Mapping[str, str], package: str) -> None:
        self._summaries = dict(summaries)
        self._package = package
        self._loaded: dict[str, ActionType] = {}

    def __getitem__(self, name: str) -> ActionType:
        loaded = self._loaded.get(name)
        if loaded is None:
            if name not in self._summaries:
                raise KeyError(name)
            module = importlib.import_module(f"{self._package}.{name}")
            loaded = ActionType(name, module.Params, module.execute, self._summaries[name])
            self._loaded[name] = loaded
        return loaded

    def __contains__(self, name: object) -> bool:
        return name in self._summaries

    def __iter__(self) -> Iterator[str]:
        return iter(self._summaries)

    def __len__(self) -> int:
        return len(self._summaries)

    def summary(self, name: str) -> str:
        """What the action does, in a few words, without importing it."""
        return self._summaries[name]
