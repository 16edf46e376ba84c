"""The Globus clients one watcher process shares: one authorizer, one TransferClient.

One TransferClient for the whole process (sources and actions), because its authorizer holds
the rotating refresh token: two authorizers on one token would refresh it from under each
other. Its retries are bounded so a poll cannot hang for long: one call takes at most
`(max_retries + 1) * request_timeout + max_retries * max_sleep` seconds (Retry-After included,
as the SDK caps every sleep at `max_sleep`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import globus_sdk
import requests
from globus_sdk.transport import RequestsTransport, RetryConfig

from watcher import metrics
from watcher.globus.authorizer import StoredTokenAuthorizer
from watcher.globus.settings import GlobusSettings
from watcher.globus.tokens import TokenFile


@dataclass
class GlobusClients:
    """The stored tokens, the authorizer over them and the TransferClient using it."""

    tokens: TokenFile
    authorizer: StoredTokenAuthorizer
    transfer: globus_sdk.TransferClient

    def ready_transfer(self) -> globus_sdk.TransferClient:
        """The TransferClient, or `CredentialsExpired` (from a local check, no request)."""
        self.authorizer.check()
        return self.transfer


def build_clients(settings: GlobusSettings) -> GlobusClients:
    """Clients for the configured native app and token file; service URLs come from the SDK's
    environment variables (`GLOBUS_SDK_SERVICE_URL_TRANSFER`, ...)."""
    tokens = TokenFile(settings.token_db)
    authorizer = StoredTokenAuthorizer(tokens, settings.client_id)
    transfer = globus_sdk.TransferClient(
        authorizer=authorizer,
        transport=counted(RequestsTransport(http_timeout=settings.request_timeout), "transfer"),
        retry_config=RetryConfig(max_retries=settings.max_retries,
                                 max_sleep=settings.max_sleep),
    )
    return GlobusClients(tokens, authorizer, transfer)


def counted(transport: RequestsTransport, service: str) -> RequestsTransport:
    """The transport, each response it gets (every attempt, retries too) counted by route in
    `watcher_globus_requests_total` (`watcher.metrics`). The SDK sends prepared requests
    through `Session.send`, which runs no session-level hooks: the session counts them."""
    transport.session = _CountingSession(service)
    return transport


class _CountingSession(requests.Session):
    """A requests session that counts each response it receives, and reads the proxy
    environment (`HTTPS_PROXY`, `NO_PROXY`, ...) once per scheme and host rather than on every
    request: requests resolves it per send, about 0.8 ms each, a sixth of an idle Globus poll
    of 2,000 watched tasks (benchmarks/RESULTS.md, part 5)."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service
        self._proxies: dict[tuple[str, str], dict[str, str]] = {}

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        """Send as requests does, with the proxies for the request's scheme and host cached."""
        if "proxies" not in kwargs:
            where = urlsplit(request.url or "")
            key = (where.scheme, where.netloc)
            if key not in self._proxies:
                self._proxies[key] = requests.utils.resolve_proxies(request, self.proxies,
                                                                    self.trust_env)
            kwargs["proxies"] = dict(self._proxies[key])
        response = super().send(request, **kwargs)
        path = urlsplit(request.url or "").path
        metrics.GLOBUS_REQUESTS.labels(self.service, request.method or "",
                                       metrics.route_of(path), str(response.status_code)).inc()
        return response
