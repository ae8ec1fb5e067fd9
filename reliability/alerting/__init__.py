"""Alertmanager routing: the stack's `alerting` config -> `Routing` (routing.py) ->
`alertmanager.yaml` (generate.py), checked before anything loads it (checks.py); and the
check that every spec's team is routed in an environment (teams.py)."""
