"""The HTTP tests' fixtures: the staging world of tests/workflows and a served watcher."""

from tests.http._served import FIXTURES, served

emu, globus, sim, make_service, sink, settings, world = FIXTURES
__all__ = ["emu", "globus", "make_service", "served", "settings", "sim", "sink", "world"]
