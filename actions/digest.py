"""The params an action includes to be groupable, and the digest the engine gathers for it.

They sit with the actions because an action's params are built from them (the email action's
do); the engine (`watcher.engine.grouping`) reads them to gather firings into group intents.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any, ClassVar

from pydantic import (
    BaseModel,
    Field,
    SerializerFunctionWrapHandler,
    ValidationInfo,
    field_validator,
    model_serializer,
)
from pydantic.json_schema import SkipJsonSchema

from watcher import templating
from watcher.lang.durations import Duration

# (An email's `digest_subject`/`digest_body` too: meaningless without `group_by`.)
GROUPING_FIELDS = ("group_by", "group_wait", "repeat_interval", "item", "digest",
                   "digest_subject", "digest_body")
_NAME = re.compile(r"^[A-Za-z_]\w*(\.\w+)*$")


class DigestItem(BaseModel):
    """One firing in a group: its subject, when, and its line in the digest."""

    subject: str
    kind: str
    at: datetime
    firing_id: int | None = None
    line: str


class Digest(BaseModel):
    """What the engine gathered for a group intent (never written in rule files)."""

    group: dict[str, str]
    items: list[DigestItem]
    omitted: int = 0

    @property
    def total(self) -> int:
        """How many items the digest stands for, counting those left out of its body."""
        return len(self.items) + self.omitted


class GroupingParams(BaseModel):
    """Params an action includes to be groupable. `DEFAULT_ITEM` is the digest line template
    when a rule gives no `item`; `PER_ITEM` names params that differ per firing (an email's
    subject and body) and so do not split groups."""

    DEFAULT_ITEM: ClassVar[str] = "{{ event.kind }} {{ event.subject }} {{ event.change }}"
    PER_ITEM: ClassVar[frozenset[str]] = frozenset()

    group_by: list[str] | None = None
    # The schema shows defaults as rule files write them, not as ISO 8601 ("PT30S").
    group_wait: Duration = Field(timedelta(seconds=30), json_schema_extra={"default": "30s"})
    repeat_interval: Duration = Field(timedelta(hours=4), json_schema_extra={"default": "4h"})
    item: str | None = None
    digest: SkipJsonSchema[Digest | None] = None

    @field_validator("group_by")
    @classmethod
    def _group_by(cls, value: list[str] | None) -> list[str] | None:
        for entry in value or []:
            if not (templating.is_template(entry) or _NAME.match(entry)):
                raise ValueError(f"expected an attribute like 'job.queue' or a template but got "
                                 f"'{entry}'")
        return value

    @field_validator("group_wait", "repeat_interval", "item", "digest")
    @classmethod
    def _only_with_group_by(cls, value: Any, info: ValidationInfo) -> Any:
        if "group_by" in info.data and info.data["group_by"] is None:  # absent, not invalid
            raise ValueError(f"'{info.field_name}' only applies with 'group_by'")
        return value

    @model_serializer(mode="wrap")
    def _drop_unused(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Ungrouped intents keep the params they had before grouping existed."""
        data: dict[str, Any] = handler(self)
        if self.group_by is None:
            for name in GROUPING_FIELDS:
                data.pop(name, None)
        return data
