"""The `globus:` section of the settings file: the native app, the token file, the polls."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from watcher import paths

# A placeholder, not a registered app: `watcher login` refuses it and asks for a real client id
# (register a native app at https://app.globus.org/settings/developers, "thick client").
PLACEHOLDER_CLIENT_ID = "00000000-0000-0000-0000-000000000000"


class GlobusSettings(BaseModel):
    """Globus: the native app `watcher login` uses, where its tokens live, how to poll.

    `chunk` task ids go into one `task_list` filter: 100 ids make a ~3.7 KB query string, well
    under the 8 KB URL limit common in proxies (1000, the SDK's page size, would not be).
    Service URLs come from the SDK's own `GLOBUS_SDK_SERVICE_URL_*` / `GLOBUS_SDK_ENVIRONMENT`.
    """

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    client_id: str = PLACEHOLDER_CLIENT_ID
    token_db: Path = Field(default_factory=lambda: paths.data_dir() / "globus-tokens.db")
    poll_interval: float = Field(default=60.0, ge=0)
    chunk: int = Field(default=100, ge=1, le=1000)
    # Also watch every task of the user's (web app, globus-cli, scripts): one more paged
    # task_list a poll, listing the tasks live or ended since the last one.
    own_tasks: bool = True
    # Endpoints probed for inactive / consent required, besides those of watched live tasks.
    endpoints: list[str] = Field(default_factory=list)
    endpoint_interval: float = Field(default=300.0, ge=0)
    # Failed polls in a row before a `source_down` event for "globus".
    down_after: int = 3
    # One SDK call lasts at most (max_retries + 1) * request_timeout + max_retries * max_sleep.
    request_timeout: float = Field(default=20.0, gt=0)
    max_retries: int = Field(default=3, ge=0)
    max_sleep: float = Field(default=5.0, ge=0)
    # After failed polls the next waits poll_interval * 2**failures, at most this long.
    backoff_max: float = Field(default=600.0, ge=0)
