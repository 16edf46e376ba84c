"""Replaying a recorded timeline against rules, for `watcher rules test`.

`load_timeline` reads the file (format in `watcher.replay.timeline`), `replay` runs it through
the service's own observe and engine code in a throwaway store, and `compare` checks the result
against the timeline's expectations.
"""

from watcher.replay.expect import Comparison, compare
from watcher.replay.load import TimelineError, load_timeline, parse_timeline
from watcher.replay.run import Decision, PlannedAction, ReplayResult, replay
from watcher.replay.timeline import Expectation, Step, Timeline

__all__ = ["Comparison", "Decision", "Expectation", "PlannedAction", "ReplayResult", "Step",
           "Timeline", "TimelineError", "compare", "load_timeline", "parse_timeline", "replay"]
