"""The Globus emulator: Transfer v0.10 and Auth's token routes on 127.0.0.1, backed by real files.

Endpoints are local directories, so a transfer really copies bytes, at a configurable bandwidth,
in a background thread. Faults (failed tasks, paused endpoints, expired credentials, quotas,
revoked refresh tokens, 429/503 bursts) are injected through `/_emulator/...` admin routes or the
Python API of `Emulator`. Tests and demos use `watcher.sim.globus.testing.GlobusEmulator`; the
`watcher sim globus` command runs it as a daemon.

Modules: `model` (task records), `documents` (Globus-shaped JSON), `filters` (task_list filter
and paging), `paths` (Globus paths to local files), `scopes`, `auth` (tokens), `faults`,
`transfers` (tasks and their progress), `emulator` (the whole service and its Python API),
`server` and `routes_*` (HTTP), `admin_client` (the admin API over HTTP), `daemon`, `testing`.
"""
