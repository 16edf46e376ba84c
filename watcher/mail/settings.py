"""The `smtp:` section of the settings file: where mail goes and how to log in."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class SmtpSettings(BaseModel):
    """Outgoing mail. The password comes from an environment variable or a file, never inline."""

    host: str = "localhost"
    port: int = 25
    security: Literal["none", "starttls", "tls"] = "none"
    username: str | None = None
    password_env: str | None = None
    password_file: Path | None = None
    sender: str = Field(default_factory=lambda: f"watcher@{os.uname().nodename}", alias="from")
    timeout: float = 30.0

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def password(self) -> str | None:
        """Read now from the environment variable or the file, None when neither is set."""
        if self.password_env:
            return os.environ.get(self.password_env)
        if self.password_file:
            return self.password_file.read_text().strip()
        return None
