"""The engine: events in, firings and action intents out."""
