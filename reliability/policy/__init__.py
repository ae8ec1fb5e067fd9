"""The CrossGuard pack (policies/) run offline on an `sre render` output (check.py)."""
