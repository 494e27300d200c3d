"""One lookup: orchestration, cache, budgets, merge into the payload, page workers,
and build.py, the one place that wires sources, cache, sessions and budgets."""
