"""Open-access sources, one adapter module each, behind the ``Source`` interface."""
