"""Talking to PBS through its command-line tools, and reading what they print."""
