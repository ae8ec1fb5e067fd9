"""Spec formats: our own, Sloth and OpenSLO, each mapped to the one model."""
