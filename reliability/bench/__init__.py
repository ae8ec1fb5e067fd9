"""Benchmarks behind `sre bench compile`, `sre bench render` and `sre bench report`: generated specs
in a temporary folder, the same code paths a user runs, wall time and memory out."""
