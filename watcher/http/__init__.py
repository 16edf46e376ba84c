"""The HTTP face of `watcher run --listen`: a versioned REST API with its OpenAPI document
(`/api/v1`), a web page (`/`) and `/metrics`, served by uvicorn in the service's own event loop.

Every request needs the token (`watcher.http.tokens`); the routes call the same functions as
the CLI (`watcher.views`, `watcher.service.workflow_submit`, `watcher.workflows.cancel`) and
answer with the same field names as its `--json` and the same messages in its errors.
"""
