"""`watcher run --listen 127.0.0.1:0` as a real process on the simulators (the staging world
of tests/workflows), and a client for its HTTP face."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.workflows._staging import FIXTURES, Staging, write_config
from watcher.config import HttpSettings

emu, globus, sim, make_service, sink, settings, world = FIXTURES

_SERVING = re.compile(r"watcher: serving (\S+) \(API token in (.+)\)$", re.M)
_LINK = re.compile(r"watcher: open (\S+) in your browser")


@dataclass
class Served:
    """One `watcher run --listen` process: its URL, token, one-time link and output."""

    proc: subprocess.Popen[str]
    url: str
    token: str
    link: str
    lines: list[str] = field(default_factory=list)

    def call(self, method: str, path: str, *, token: str | None = "", **kwargs: Any
             ) -> requests.Response:
        """A request with the bearer token (`token=None`: none; a string: that one)."""
        headers = dict(kwargs.pop("headers", {}))
        if token is not None:
            headers["Authorization"] = f"Bearer {token or self.token}"
        return requests.request(method, self.url.rstrip("/") + path, headers=headers,
                                timeout=30, **kwargs)

    def get(self, path: str, **kwargs: Any) -> Any:
        response = self.call("GET", path, **kwargs)
        assert response.status_code == 200, response.text
        return response.json()

    def output(self) -> str:
        return "\n".join(self.lines)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def start(world: Staging, tmp_path: Path, *extra: str, interval: float = 0.5,
          rules_text: str | None = None, command: str = "run") -> Served:
    """`watcher run --listen 127.0.0.1:0` on the world's simulators and store, with
    `rules_text` as its one rule file."""
    settings = world.settings.model_copy(deep=True)
    settings.pbs.min_poll_interval = 0
    settings.pbs.poll_interval = interval
    settings.http = HttpSettings(token_file=tmp_path / "data" / "http-token")
    config = write_config(settings, tmp_path / "served.yaml")
    rules = tmp_path / "served-rules"
    rules.mkdir(exist_ok=True)
    if rules_text is not None:
        (rules / "rules.yaml").write_text(rules_text)
    argv = [sys.executable, "-m", "watcher", command, "--config", str(config), "--rules",
            str(rules), "--listen", "127.0.0.1:0", *extra]
    proc = subprocess.Popen(argv, cwd=world.run_dir, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env={**os.environ})
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")),  # type: ignore[union-attr]
                     daemon=True).start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        text = "".join(lines)
        serving, link = _SERVING.search(text), _LINK.search(text)
        if serving and link and (command != "run" or "watcher running" in text):
            token = Path(serving.group(2)).read_text().strip()
            served = Served(proc, serving.group(1), token, link.group(1), lines)
            return served
        if proc.poll() is not None:
            raise AssertionError(f"watcher run exited {proc.returncode}:\n{text}")
        time.sleep(0.05)
    proc.kill()
    raise AssertionError("watcher run --listen did not start:\n" + "".join(lines))


@pytest.fixture
def served(world: Staging, tmp_path: Path) -> Iterator[Served]:
    running = start(world, tmp_path)
    yield running
    assert running.stop() == 0, running.output()
    assert running.token not in running.output()  # never in a log line


def eventually(check: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.1)


def spec_yaml(world: Staging, name: str = "api-run") -> str:
    return (f"name: {name}\nscript: compute.sh\ncleanup: cleanup.sh\n"
            f"stage_in: [{{from: '{world.src}:/in/', to: '{world.dst}:/run/in/'}}]\n"
            f"stage_out: [{{from: '{world.dst}:/run/out/', to: '{world.src}:/results/'}}]\n")
