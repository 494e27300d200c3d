"""Test support shared by the unit, corpus, e2e suites and the benchmark."""
