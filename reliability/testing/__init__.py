"""Reliability tests judged by the SLOs at run time: the SLO gate and load test verdicts (they talk to Prometheus)."""
