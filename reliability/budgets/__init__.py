"""Error budgets acted on: the release policy, the deploy gate and compliance reports."""
