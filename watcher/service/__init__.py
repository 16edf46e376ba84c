"""The running service: observations persisted, events fed to the engine, actions run."""
