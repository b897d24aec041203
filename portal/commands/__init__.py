"""Subcommands of the ``eventdeck`` CLI; each module has ``register(subparsers)`` and sets ``run``."""
