"""The exit statuses of ``layerscope`` subcommands."""

EXIT_OK = 0
"""Done (``ci``: every rule passed)."""
EXIT_FAILED = 1
"""``ci``: a rule failed."""
EXIT_INTERNAL = 1
"""A bug in LayerScope (or the desktop tools it runs failed); the message asks for a report."""
EXIT_BAD_INPUT = 2
"""The user's input is wrong: a bad file, option or value; one line on stderr says which and why."""
EXIT_INTERRUPTED = 130
"""Stopped with Ctrl+C."""
