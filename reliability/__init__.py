"""reliability-as-code: the SLO compiler, the typed stack config and the `sre` command."""

__version__ = "0.1.0"
