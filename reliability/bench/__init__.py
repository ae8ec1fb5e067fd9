"""Benchmarks behind `sre slo bench` and `sre bench render`: generated specs in a
temporary folder, the same code paths a user runs, wall time and memory out."""
