"""The command line: `oahelper serve`, `lookup`, `audit`, `doctor`, `service` and the rest."""

from oahelper.cli.main import main

__all__ = ["main"]
