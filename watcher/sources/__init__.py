"""Sources: what the watcher polls (PBS, Globus, quota). Each answers one `poll()` at a time."""
