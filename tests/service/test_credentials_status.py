"""`watcher status` about the Globus login, `watcher logout`, and `watcher sim globus login`.

The login is the real flow against the emulator; the pause is the real service meeting a
revoked refresh token; status and logout are the real commands reading the same files.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import globus_sdk
import yaml
from click.testing import CliRunner

from tests.globus import _world
from tests.globus._world import USER, Globus
from tests.globus.test_login import browser
from tests.service.conftest import cycle_until
from tests.workflows import _staging
from watcher.cli import cli
from watcher.config import Settings
from watcher.globus.login import finish_login, start_login
from watcher.globus.login_info import read_login
from watcher.mail.sink import SmtpSink

emu, globus = _world.emu, _world.globus  # the Globus world's fixtures
sink, settings = _staging.sink, _staging.settings


def config_file(settings: Settings, tmp_path: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({
        "globus": {"client_id": settings.globus.client_id,
                   "token_db": str(settings.globus.token_db)},
        "store": {"url": settings.store.url}}))
    return path


def watcher(config: Path, command: str, *args: str) -> Any:
    return CliRunner(env={"COLUMNS": "250"}).invoke(cli, [command, "--config", str(config),
                                                          *args])


def status(config: Path, rules: Path) -> dict[str, Any]:
    result = watcher(config, "status", "--json", "--rules", str(rules))
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def log_in(globus: Globus) -> None:
    """`watcher login`, as the user would run it (the emulator approves at once)."""
    globus.tokens.delete()
    flow = start_login(globus.settings.client_id)
    finish_login(flow, browser(flow.url), globus.tokens)


def test_status_tells_whose_login_and_is_truthful_while_paused(
        globus: Globus, make_service, settings: Settings, sink: SmtpSink,
        tmp_path: Path) -> None:
    log_in(globus)
    service = make_service("rules: []\n")
    asyncio.run(service.cycle())
    config, rules = config_file(settings, tmp_path), tmp_path / "rules"
    [row] = status(config, rules)["credentials"]
    assert (row["state"], row["logged_in_as"]) == ("ok", "alice@emulator.globus.org")
    assert row["token_age"] == "0h 0m" and row["last_used_at"] == row["logged_in_at"]
    assert row["refresh_token_lapses_at"] > row["logged_in_at"]
    assert all(s["healthy"] for s in status(config, rules)["sources"])

    globus.emu.revoke_refresh_tokens(USER)
    globus.emu.expire_access_tokens(USER)
    cycle_until(service, lambda: status(config, rules)["credentials"][0]["state"] != "ok")
    report = status(config, rules)
    [row] = report["credentials"]
    assert row["state"] == "paused: run `watcher login`" and row["to_do"] == "watcher login"
    assert "invalid_grant" in row["reason"]
    [source] = [s for s in report["sources"] if s["source"] == "globus"]
    assert (source["healthy"], source["paused"]) == (False, True)
    assert source["last_error"].startswith("paused: run `watcher login`")
    text = watcher(config, "status", "--rules", str(rules)).output
    assert "paused: run `watcher login`" in text

    log_in(globus)  # the user ran `watcher login`: Globus work resumes
    cycle_until(service, lambda: status(config, rules)["credentials"][0]["state"] == "ok")


def test_logout_revokes_and_deletes_the_tokens(globus: Globus, settings: Settings,
                                               tmp_path: Path) -> None:
    log_in(globus)
    stored = globus.tokens.transfer_tokens()
    assert stored is not None
    config = config_file(settings, tmp_path)
    result = watcher(config, "logout")
    assert result.exit_code == 0, result.output
    assert "Revoked 4 token(s)" in result.output and not globus.tokens.exists()
    auth = globus_sdk.NativeAppAuthClient(globus.settings.client_id)
    try:
        auth.oauth2_refresh_token(stored.refresh_token)
    except globus_sdk.AuthAPIError as exc:
        assert exc.raw_json == {"error": "invalid_grant"}
    else:
        raise AssertionError("a revoked refresh token still worked")
    again = watcher(config, "logout")
    assert again.exit_code == 0 and "Not logged in" in again.output


def test_logout_without_auth_still_deletes_and_says_where_to_revoke(
        globus: Globus, settings: Settings, tmp_path: Path) -> None:
    log_in(globus)
    globus.emu.flaky(503, service="auth")
    result = watcher(config_file(settings, tmp_path), "logout")
    assert result.exit_code == 1 and not globus.tokens.exists()
    assert "https://app.globus.org/account/consents" in result.output


def test_sim_globus_login_logs_in_to_a_running_emulator(tmp_path: Path,
                                                         monkeypatch) -> None:
    from watcher.sim.globus.daemon import start_daemon, stop_daemon

    home, data = tmp_path / "emu", tmp_path / "data"
    monkeypatch.setenv("WATCHER_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("WATCHER_DATA_DIR", str(data))
    url = start_daemon(home, 0, 1e6)
    try:
        result = CliRunner().invoke(cli, ["sim", "globus", "login", "--home", str(home)])
        assert result.exit_code == 0, result.output
        assert f"export GLOBUS_SDK_SERVICE_URL_TRANSFER={url}" in result.output
        info = read_login(data / "globus-tokens.db")
        assert info is not None and info.username == "alice@emulator.globus.org"
        monkeypatch.setenv("GLOBUS_SDK_SERVICE_URL_TRANSFER", url)
        monkeypatch.setenv("GLOBUS_SDK_SERVICE_URL_AUTH", url)
        shown = json.loads(CliRunner().invoke(cli, ["status", "--json"]).stdout)
        assert shown["credentials"][0]["logged_in_as"] == "alice@emulator.globus.org"
    finally:
        stop_daemon(home)
    stopped = CliRunner().invoke(cli, ["sim", "globus", "login", "--home", str(home)])
    assert stopped.exit_code == 1 and "not running" in stopped.output
