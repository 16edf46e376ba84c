"""`watcher sim globus login`: the real `watcher login` flow, approved by the emulator.

The emulator approves every authorize request at once (as `emulator_user`) and hands the code
back in an `X-Emulator-Code` header, so the browser and the pasted code are skipped; the rest
is `watcher login`'s own code (PKCE, refresh tokens, the login record), pointed at the
emulator through the SDK's `GLOBUS_SDK_SERVICE_URL_*` variables.
"""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence

from watcher.envvars import environment
from watcher.globus.login import LoginError, finish_login, start_login
from watcher.globus.settings import PLACEHOLDER_CLIENT_ID
from watcher.globus.tokens import TokenFile

URL_VARIABLES = ("GLOBUS_SDK_SERVICE_URL_TRANSFER", "GLOBUS_SDK_SERVICE_URL_AUTH")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def emulator_client_id(configured: str, emulator_default: str) -> str:
    """The configured native app, or the emulator's own while config has the placeholder."""
    return emulator_default if configured == PLACEHOLDER_CLIENT_ID else configured


def log_in_to_emulator(url: str, user: str, client_id: str, tokens: TokenFile,
                       collections: Sequence[str] = ()) -> None:
    """Run the login flow against the emulator at `url` as `user`; raises `LoginError`."""
    with environment(dict.fromkeys(URL_VARIABLES, url)):
        _approve_and_finish(url, user, client_id, tokens, collections)


def _approve_and_finish(url: str, user: str, client_id: str, tokens: TokenFile,
                        collections: Sequence[str]) -> None:
    flow = start_login(client_id, collections)
    sep = "&" if "?" in flow.url else "?"
    approve = f"{flow.url}{sep}{urllib.parse.urlencode({'emulator_user': user})}"
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(approve, timeout=10) as page:
            code = page.headers.get("X-Emulator-Code")
    except (urllib.error.URLError, OSError) as exc:
        raise LoginError(f"the emulator at {url} did not approve the login: {exc}") from exc
    if not code:
        raise LoginError(f"the emulator at {url} sent no authorization code")
    finish_login(flow, code, tokens)
