"""The demo's world: a PBS simulator, a Globus emulator, an SMTP sink and one watcher service,
all inside one directory that nothing else uses.

    root/pbs/       the PBS simulator's home; its qsub/qstat shims (pbs/bin) are never on PATH
    root/globus/    the Globus emulator's home (state.json)
    root/lab/       endpoint "lab": the inputs, and the results staged back
    root/archive/   endpoint "archive": scenario C's input (its consent expires)
    root/collab/    endpoint "collab": a collaborator's, F's second input and second output
    root/scratch/   endpoint "scratch": the cluster file system; jobs run in scratch/<X>/run
    root/mail/      every message the watcher sent, as .eml files
    root/watcher/   WATCHER_CONFIG_DIR and WATCHER_DATA_DIR while the world is up:
                    config.yaml, watcher.db, globus-tokens.db

The watcher gets explicit settings (PBS commands from pbs/bin, the store and the tokens in
root/watcher, SMTP at the sink), and the environment variables that would lead anything to the
user's own directories or to the real Globus point into root for as long as the world is up.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import globus_sdk
import yaml
from globus_sdk.token_storage import TokenStorageData

from watcher.config import GlobusSettings, PbsSettings, Settings, StoreSettings
from watcher.envvars import environment
from watcher.globus.tokens import TRANSFER_RS, TokenFile
from watcher.mail.sink import SmtpSink
from watcher.service.service import Service
from watcher.sim.globus.testing import GlobusEmulator
from watcher.sim.pbs.testing import PbsSim
from watcher.store.db import Store, open_store

USER = "alice"  # the Globus identity the emulator knows the demo user by
EMAIL = "you@example.org"


@dataclass(frozen=True)
class Knobs:
    """How fast the world moves: the watcher's poll interval (seconds) and the emulator's
    bandwidth (bytes per second for each running transfer)."""

    poll_interval: float = 0.3
    bandwidth: float = 100_000.0


class DemoWorld:
    """Everything the scenarios touch, started on enter and stopped (every process, thread
    and socket) on exit, even after a failure or Ctrl-C."""

    def __init__(self, root: Path, knobs: Knobs | None = None) -> None:
        self.root = Path(root)
        self.knobs = knobs or Knobs()
        self.home = self.root / "watcher"
        self._stack = ExitStack()

    def __enter__(self) -> DemoWorld:
        try:
            self._start()
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stack.close()

    def _start(self) -> None:
        stack, root = self._stack, self.root
        self.home.mkdir(parents=True, exist_ok=True)
        db_url = f"sqlite:///{self.home / 'watcher.db'}"
        stack.enter_context(environment({"WATCHER_CONFIG_DIR": str(self.home),
                                         "WATCHER_DATA_DIR": str(self.home),
                                         "WATCHER_DB": db_url}))
        self.sim = stack.enter_context(PbsSim(root / "pbs", nodes=4))
        self.emu = stack.enter_context(GlobusEmulator(root / "globus",
                                                      bandwidth=self.knobs.bandwidth))
        stack.enter_context(environment(self.emu.env))  # where the SDK finds "Globus"
        self.sink = stack.enter_context(SmtpSink(directory=root / "mail"))
        self.endpoints = {name: self.emu.add_endpoint(root / name, display_name=name)
                          for name in ("lab", "archive", "scratch", "collab")}
        self.settings = self._settings(db_url)
        self._log_in()
        write_config(self.settings, self.home / "config.yaml")
        self.store: Store = open_store(db_url)
        stack.callback(self.store.close)
        rules = self.home / "rules"  # the user's rules: none, only the shipped staging rules
        rules.mkdir(exist_ok=True)
        self.service = Service(self.settings, self.store, [rules])

    def _settings(self, db_url: str) -> Settings:
        globus = GlobusSettings(client_id=self.emu.native_client_id,
                                token_db=self.home / "globus-tokens.db", poll_interval=0,
                                endpoint_interval=2, request_timeout=5, max_sleep=0.05)
        return Settings(pbs=PbsSettings(bin_dir=self.sim.bin_dir,
                                        poll_interval=self.knobs.poll_interval,
                                        min_poll_interval=0, down_after=2),
                        store=StoreSettings(url=db_url), globus=globus,
                        smtp=self.sink.settings(), user_email=EMAIL)

    def _log_in(self) -> None:
        """Store tokens for the watcher as `watcher login` would (no browser here)."""
        issued = self.emu.issue_tokens(USER)
        TokenFile(self.settings.globus.token_db).store_data(TokenStorageData(
            resource_server=TRANSFER_RS, identity_id=issued["identity_id"],
            scope=issued["scope"], access_token=issued["access_token"],
            refresh_token=issued["refresh_token"],
            expires_at_seconds=issued["expires_at_seconds"], token_type="Bearer"))

    def user_transfer_client(self) -> globus_sdk.TransferClient:
        """The user's own Globus client, as the web app or globus-cli on a laptop would be:
        another login of the same identity, separate from the watcher's tokens."""
        tokens = self.emu.issue_tokens(USER)
        return globus_sdk.TransferClient(authorizer=self.emu.authorizer(tokens),
                                         base_url=self.emu.transfer_url)

    def endpoint(self, name: str) -> str:
        """The id of endpoint `name` (lab, archive, scratch or collab)."""
        return self.endpoints[name]


def write_config(settings: Settings, path: Path) -> Path:
    """The settings as a config.yaml, so `watcher status --config` works on a kept world."""
    data = settings.model_dump(mode="json", by_alias=True, exclude_none=True)
    path.write_text(yaml.safe_dump(data))
    return path
