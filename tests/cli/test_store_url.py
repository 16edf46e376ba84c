"""A store URL's password never reaches the screen: every command that opens the store masks it."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from watcher.cli import cli
from watcher.store.db import shown_url, without_secrets

URLS = [
    "postgresql+psycopg://alice:s3cret@127.0.0.1:1/db",  # nothing listens on port 1
    "postgresql://alice:s3cret@127.0.0.1:notaport/db",  # does not parse
    "postgresql+nosuchdriver://alice:s3cret@127.0.0.1/db",  # no such driver
]
COMMANDS = [["status"], ["history"], ["rules", "list"], ["silence", "list"], ["recover", "wf-1"]]


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_a_store_that_cannot_open_is_named_without_its_password(url: str, command: list[str]):
    result = CliRunner().invoke(cli, [*command, "--db", url])
    assert result.exit_code == 1, result.output
    assert "s3cret" not in result.output
    assert "alice:***@127.0.0.1" in result.output


def test_shown_url_masks_parsed_and_unparsed_urls():
    assert shown_url("postgresql://u:p%40ss@db/x") == "postgresql://u:***@db/x"
    assert shown_url("postgresql://u:pw@db:port/x") == "postgresql://u:***@db:port/x"
    assert shown_url("sqlite:////home/a/w.db") == "sqlite:////home/a/w.db"
    assert without_secrets("bad url 'postgresql://u:pw@db:port/x' (pw)",
                           "postgresql://u:pw@db:port/x") == (
        "bad url 'postgresql://u:***@db:port/x' (***)")
