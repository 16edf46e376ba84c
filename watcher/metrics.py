"""The process's own Prometheus counters: what this instance did since it started.

They live at the bottom of the package graph so that each part counts where it acts (the PBS
commands where they run, Globus requests in the SDK's transport, polls, events, firings and
actions in the service), and `/metrics` (`watcher.http.metrics`) serves them beside gauges it
reads from the store at each scrape (intents, workflows, source health, credentials): counters
are this process's, gauges the shared store's, so several instances on one PostgreSQL store
each report their own work and the same totals.
"""

from __future__ import annotations

import re

from prometheus_client import Counter, Histogram

POLL_SECONDS = Histogram("watcher_poll_duration_seconds", "Time one poll of a source took.",
                         ["source"], buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120))
POLLS = Counter("watcher_polls", "Polls of a source, by whether the source answered.",
                ["source", "outcome"])
PBS_COMMANDS = Counter("watcher_pbs_commands", "PBS commands run, by command and exit.",
                       ["command", "outcome"])
GLOBUS_REQUESTS = Counter("watcher_globus_requests",
                          "HTTP requests to Globus (each attempt), by method, route and status.",
                          ["service", "method", "route", "status"])
EVENTS = Counter("watcher_events", "Events recorded, by kind.", ["kind"])
FIRINGS = Counter("watcher_firings", "Rule firings (actions started), by rule.", ["rule"])
ACTIONS = Counter("watcher_actions", "Action runs, by action type and outcome (done, retry, "
                  "dead).", ["type", "outcome"])

# Ids in Globus routes (UUIDs, task ids, anything with a digit) become `{id}`: one series a
# route, not one a task.
_ID = re.compile(r"/(?=[^/]*\d)[0-9A-Za-z_.:-]{8,}(?=/|$)")


def route_of(path: str) -> str:
    """`/v0.10/task/0b1a.../cancel` -> `/v0.10/task/{id}/cancel`."""
    return _ID.sub("/{id}", path) or "/"


def count_poll(source: str, ok: bool, seconds: float) -> None:
    """Record one poll of `source`: its duration in seconds and whether it answered."""
    POLL_SECONDS.labels(source).observe(seconds)
    POLLS.labels(source, "ok" if ok else "failed").inc()
