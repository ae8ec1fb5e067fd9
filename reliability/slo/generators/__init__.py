"""Generators: pure functions of the model."""
