"""The Globus emulator: Transfer v0.10 and Auth's token routes on 127.0.0.1, backed by real files.

Endpoints are local directories, so a transfer really copies bytes, at a configurable bandwidth,
in a background thread. Faults (failed tasks, paused endpoints, expired credentials, quotas,
revoked refresh tokens, 429/503 bursts) are injected through `/_emulator/...` admin routes or the
Python API of `Emulator`. Tests and demos use `watcher.sim.globus.testing.GlobusEmulator`; the
`watcher sim globus` command runs it as a daemon.

Modules: `model` (task records), `documents` and `endpoint_documents` (Globus-shaped JSON),
`filters` (task_list filter and paging), `paths` (Globus paths to local files), `submission`
(transfer document to task), `progress` (queueing, copying, quotas), `transfers` (the task
service), `scopes`, `auth` (tokens), `faults`, `emulator` (the whole service and its Python
API), `routing`, `server` and `routes_*` (HTTP), `admin_client` (the admin API over HTTP),
`daemon`, `testing`.

Choices where Globus is undocumented or where the emulator simplifies:
- Resubmitting a used `submission_id` answers HTTP 200 with code "Duplicate" and the original
  task id (the first submission answers 202 "Accepted"). The codes are Transfer's documented
  result codes (globus-sdk-javascript types them as `'Accepted' | 'Duplicate'`, citing
  docs.globus.org/api/transfer/task_submit/#result_codes); the HTTP statuses are our choice.
  The duplicate is recognised before the body is checked: one id, one task, whatever is sent.
- Names not confirmed from an authoritative source: nice_status "AUTH" (credentials expired,
  task INACTIVE), "QUOTA_EXCEEDED", "ENDPOINT_ERROR"; fatal_error codes "DEADLINE_EXCEEDED",
  "CANCELED", "FILE_NOT_FOUND", "IS_A_DIRECTORY", "NOT_A_DIRECTORY"; injected 429 bodies use
  code "TooManyRequests" (503: "ServiceUnavailable"); cancelling a finished task answers 200
  "TaskComplete"; a missing task is 404 "TaskNotFound".
- Bandwidth applies to each running task. Paused, INACTIVE and quota-stalled tasks do not hold
  one of the user's 3 slots. Deadlines default to 24 h and are not extended while moving.
- Items are expanded when the task is submitted (sync levels are judged then); a missing source
  fails the task at once (or is skipped with `skip_source_errors`). `verify_checksum`,
  `delete_destination_extra` and `filter_rules` are echoed, not acted on. No DELETE tasks.
- Refresh tokens rotate by default (the old one dies at once). Any client id may use the
  client-credentials grant; its first secret is remembered. `/v2/oauth2/authorize` approves
  at once as `emulator_user` (default "alice"). Tokens never carry an `id_token`.
- globus-sdk treats `Retry-After: 0` as absent and sleeps its own backoff; tests that want
  speed set `client.retry_config.backoff`.
- Faults are part of the snapshot: a paused endpoint is still paused after a restart.
"""
