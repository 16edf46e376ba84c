"""State: diffing observations into events, and tracking whether each source answers."""
