"""`stage_out`: `transfer` with defaults for copying a finished job's output directory.

    do:
      - stage_out:
          source_endpoint: "{{ vars.cluster }}"
          destination_endpoint: "{{ vars.archive }}"
          source_path: "{{ job.workdir }}/out/"
          destination_path: "/archive/{{ job.name }}/"

The same action as `transfer` (one implementation, `watcher.actions.transfer.execute`), with other
defaults: items are directories (`recursive: true`); files keep their modification times and
are compared by them (`preserve_timestamp: true`, `sync_level: mtime`), so staging the same
directory out again after a rerun copies only what changed, without checksumming every byte
on both sides; `verify_checksum` stays on for what is copied.
"""

from __future__ import annotations

from watcher.actions import transfer
from watcher.actions.transfer import SyncLevel


class Params(transfer.Params):
    """`transfer`'s parameters with stage-out defaults."""

    recursive: bool = True
    preserve_timestamp: bool = True
    sync_level: SyncLevel | None = "mtime"
    label: str = "watcher stage-out {{ rule }}"


execute = transfer.execute
