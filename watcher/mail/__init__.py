"""Outgoing email: building messages (`message`), sending them (`send`), a test sink (`sink`)."""
