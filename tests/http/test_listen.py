"""`watcher run --listen`: where it may listen, and the token file it makes."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from watcher.cli import cli
from watcher.config import HttpSettings
from watcher.http.server import ListenRefused, check_listen
from watcher.http.tokens import Tokens, load_or_create
from watcher.private import NotPrivate


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("WATCHER_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("WATCHER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("WATCHER_DB", raising=False)
    return CliRunner()


@pytest.mark.parametrize("listen", ["0.0.0.0:8080", "[::]:8080", "login01.example.org:80"])
def test_a_non_loopback_listen_without_tls_is_refused_before_anything_starts(
        runner: CliRunner, tmp_path: Path, listen: str) -> None:
    result = runner.invoke(cli, ["run", "--listen", listen])
    assert result.exit_code == 1
    assert f"refusing to serve {listen} without TLS" in result.output
    assert "--insecure-listen" in result.output
    assert not (tmp_path / "data").exists()  # no store, no token made


def test_loopback_tls_and_the_explicit_flag_are_accepted() -> None:
    assert check_listen(HttpSettings(), "127.0.0.1:8080") == ("127.0.0.1", 8080)
    assert check_listen(HttpSettings(), "[::1]:0") == ("::1", 0)
    assert check_listen(HttpSettings(), "0.0.0.0:80", insecure=True) == ("0.0.0.0", 80)
    assert check_listen(HttpSettings(allow_insecure=True), "10.0.0.5:80")[1] == 80
    tls = HttpSettings(tls_cert=Path("/c.pem"), tls_key=Path("/k.pem"))
    assert check_listen(tls, "0.0.0.0:443") == ("0.0.0.0", 443)
    with pytest.raises(ListenRefused, match="expected HOST:PORT"):
        check_listen(HttpSettings(), "8080")


def test_bad_listen_settings_and_once_are_refused_with_the_field(
        runner: CliRunner, tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("http: {listen: 'nowhere', tls_cert: /c.pem}\n")
    result = runner.invoke(cli, ["run", "--config", str(config)])
    assert result.exit_code == 1
    assert "http.listen" in result.output and "expected HOST:PORT" in result.output
    once = runner.invoke(cli, ["run", "--once", "--listen", "127.0.0.1:0"])
    assert once.exit_code == 1 and "does not go with --once" in once.output


def test_the_token_is_made_private_kept_and_a_readable_one_refused(tmp_path: Path) -> None:
    path = tmp_path / "data" / "http-token"
    token = load_or_create(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert load_or_create(path) == token and len(token) >= 40
    tokens = Tokens(token)
    assert tokens.bearer_ok(f"Bearer {token}") and not tokens.bearer_ok(f"Basic {token}")
    assert token not in (tokens.cookie_value, tokens.csrf)
    link = tokens.new_link()
    assert tokens.log_in(link) and not tokens.log_in(link) and tokens.log_in(token)
    path.chmod(0o644)
    with pytest.raises(NotPrivate, match="chmod 600"):
        load_or_create(path)
