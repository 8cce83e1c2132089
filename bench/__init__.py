"""Benchmarks (`make bench`): figures and ratios, outside the test suite."""
