"""The watcher's Globus client side: stored tokens, the daemon's authorizer, `watcher login`.

- `tokens`: the user's tokens in globus-sdk's SQLite token storage (mode 0600).
- `authorizer`: refreshes access tokens, persists rotated refresh tokens, and turns a dead
  refresh token into `CredentialsExpired` (once, without hammering Auth) until new tokens appear.
- `clients`: the TransferClient the sources and actions share, with bounded retries.
- `login`: the native-app flow, run once by `watcher login`.
- `tasks`, `endpoints`: reading task documents in chunks, probing endpoints (for
  `watcher.sources.globus`); `pacing`: when a Globus source may ask again.
- `credentials_fact`: the stored "credentials expired" edge (`watcher.sources.credentials`).
- `submit`: exactly-once transfer submission, for the transfer and stage-out actions.
"""
