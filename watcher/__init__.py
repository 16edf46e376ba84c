"""watcher: trigger-action monitoring for PBS jobs and Globus transfers."""

__version__ = "0.1.0"
