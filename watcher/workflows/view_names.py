"""The names `watcher.workflows.context.view` gives templates as `workflow`.

A module of its own, importing nothing: `watcher.rules.template_context` checks templates
against these names, and `watcher rules check` must not import the store (SQLAlchemy) that
`context` reads.
"""

from __future__ import annotations

VIEW_NAMES = ("id", "name", "role", "step", "state", "section", "step_name", "step_kind",
              "workdir", "created_at", "email", "steps", "jobs", "tasks", "log")
