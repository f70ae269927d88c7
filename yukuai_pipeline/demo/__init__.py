"""Synthetic landing files for the demo, the tests and the benchmarks (imported by nothing else)."""
