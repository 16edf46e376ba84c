"""The Globus world fixtures (defined in `_world`, shared with the source and service tests)."""

from tests.globus._world import emu, globus

__all__ = ["emu", "globus"]
