"""The ``eventdeck`` command line: ``main`` and one module per subcommand."""
