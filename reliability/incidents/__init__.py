"""Incident management: on-call config, runbooks, post-mortems and the incident record (no Pulumi)."""
