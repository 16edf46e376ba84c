"""Why a condition could not be evaluated, as nested values (after Home Assistant's
`ConditionErrorMessage`/`ConditionErrorIndex`/`ConditionErrorContainer`), so one message says
which condition of which list failed and why."""

from __future__ import annotations

from collections.abc import Sequence


class ConditionError(Exception):
    """A condition could not be evaluated."""


class ConditionErrorMessage(ConditionError):
    """The innermost error: which condition type, and what went wrong."""

    def __init__(self, type: str, message: str) -> None:
        super().__init__(type, message)
        self.type, self.message = type, message

    def __str__(self) -> str:
        return f"In '{self.type}' condition: {self.message}"


class ConditionErrorIndex(ConditionError):
    """An error in item `index` (0-based) of `total` conditions of a container."""

    def __init__(self, type: str, index: int, total: int, error: ConditionError) -> None:
        super().__init__(type, index, total, error)
        self.type, self.index, self.total, self.error = type, index, total, error

    def __str__(self) -> str:
        return f"In '{self.type}' (item {self.index + 1} of {self.total}): {self.error}"


class ConditionErrorContainer(ConditionError):
    """Several errors, one line each."""

    def __init__(self, type: str, errors: Sequence[ConditionError]) -> None:
        super().__init__(type, errors)
        self.type, self.errors = type, list(errors)

    def __str__(self) -> str:
        return "\n".join(str(error) for error in self.errors)
