"""`watcher login` against the emulator's Auth: the native-app flow, the stored tokens, errors.

The happy path runs the real command in a subprocess, as a user at a terminal would: it prints
the authorize URL, the test "opens" it (the emulator approves at once) and types the code.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import globus_sdk
import pytest
from click.testing import CliRunner

from tests.globus._world import USER, Globus
from watcher.cli import cli
from watcher.globus.clients import build_clients
from watcher.globus.login import LoginError, finish_login, start_login
from watcher.globus.login_info import read_login
from watcher.globus.settings import PLACEHOLDER_CLIENT_ID, GlobusSettings
from watcher.sim.globus.testing import GlobusEmulator


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


def browser(url: str) -> str:
    """Open the authorize URL and read the code Globus hands back (page header or redirect)."""
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(url, timeout=10) as page:
            return page.headers["X-Emulator-Code"]
    except urllib.error.HTTPError as redirect:
        assert redirect.code == 302, redirect
        query = urllib.parse.urlsplit(redirect.headers["Location"]).query
        return urllib.parse.parse_qs(query)["code"][0]


def cli_env(emu: GlobusEmulator, tmp_path: Path) -> dict[str, str]:
    return {**emu.env, "WATCHER_CONFIG_DIR": str(tmp_path / "config"),
            "WATCHER_DATA_DIR": str(tmp_path / "data")}


def test_login_stores_refresh_tokens_the_service_can_use(
        emu: GlobusEmulator, tmp_path: Path) -> None:
    env = {**os.environ, **cli_env(emu, tmp_path), "PYTHONUNBUFFERED": "1"}
    env.pop("DISPLAY", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "watcher", "login", "--no-browser", "--client-id",
         emu.native_client_id],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=env)
    try:
        assert proc.stdout is not None
        url = next(line.strip() for line in proc.stdout if line.strip().startswith("http"))
        assert "access_type=offline" in url and "code_challenge=" in url
        out, err = proc.communicate(browser(url) + "\n", timeout=30)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 0, err
    token_db = tmp_path / "data" / "globus-tokens.db"
    assert f"Tokens stored in {token_db}" in out
    assert stat.S_IMODE(token_db.stat().st_mode) == 0o600
    endpoint = emu.add_endpoint(tmp_path / "ep")
    clients = build_clients(GlobusSettings(client_id=emu.native_client_id, token_db=token_db))
    assert clients.ready_transfer().get_endpoint(endpoint)["id"] == endpoint


def test_the_flow_functions_ask_for_refresh_tokens(globus: Globus, tmp_path: Path) -> None:
    flow = start_login(globus.settings.client_id)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(flow.url).query)
    assert query["access_type"] == ["offline"]
    assert query["scope"] == [f"openid profile email {globus_sdk.TransferClient.scopes.all}"]
    tokens = globus.tokens
    tokens.path.unlink()
    finish_login(flow, browser(flow.url), tokens)
    saved = tokens.transfer_tokens()
    assert saved is not None and saved.refresh_token
    info = read_login(tokens.path)
    assert info is not None and info.username == "alice@emulator.globus.org"
    assert info.identity_id == globus.emu.identity_id(USER)
    assert info.client_id == globus.settings.client_id and info.collections == []
    assert info.last_used_at == info.logged_in_at


def test_collections_add_optional_data_access_dependencies(globus: Globus) -> None:
    flow = start_login(globus.settings.client_id, [globus.dst, globus.dst.upper()])
    scope = urllib.parse.parse_qs(urllib.parse.urlsplit(flow.url).query)["scope"][0]
    assert scope.endswith(f"{globus_sdk.TransferClient.scopes.all}"
                          f"[*https://auth.globus.org/scopes/{globus.dst}/data_access]")
    assert flow.collections == [globus.dst]
    with pytest.raises(LoginError, match="'nope' is not a collection id"):
        start_login(globus.settings.client_id, ["nope"])


def test_the_service_refreshes_with_the_client_that_logged_in(globus: Globus) -> None:
    """`watcher login --client-id X` without X in config.yaml: refreshes still work."""
    flow = start_login(globus.settings.client_id)
    globus.tokens.path.unlink()
    finish_login(flow, browser(flow.url), globus.tokens)
    other = globus.settings.model_copy(update={"client_id": PLACEHOLDER_CLIENT_ID})
    globus.emu.expire_access_tokens(USER)
    clients = build_clients(other)
    assert clients.ready_transfer().task_list(limit=1)["DATA"] == []
    info = read_login(globus.tokens.path)
    assert info is not None and info.last_refresh_at is not None


def test_a_wrong_code_is_one_line_and_exit_1(emu: GlobusEmulator, tmp_path: Path) -> None:
    result = CliRunner(env=cli_env(emu, tmp_path)).invoke(
        cli, ["login", "--no-browser", "--client-id", emu.native_client_id], input="nope\n")
    assert result.exit_code == 1
    assert "Globus refused the authorization code (invalid_grant)" in result.output
    assert not (tmp_path / "data" / "globus-tokens.db").exists()


def test_an_empty_code_is_refused(globus: Globus) -> None:
    with pytest.raises(LoginError, match="no authorization code"):
        finish_login(start_login(globus.settings.client_id), "  ", globus.tokens)


def test_the_placeholder_client_id_is_refused_with_what_to_do(
        emu: GlobusEmulator, tmp_path: Path) -> None:
    result = CliRunner(env=cli_env(emu, tmp_path)).invoke(cli, ["login", "--no-browser"])
    assert result.exit_code == 1
    assert "register a native app" in result.output and "--client-id" in result.output


def test_help_is_one_sentence() -> None:
    result = CliRunner().invoke(cli, ["login", "--help"])
    assert result.exit_code == 0
    assert "Log in to Globus and store refresh tokens that the watcher" in result.output
