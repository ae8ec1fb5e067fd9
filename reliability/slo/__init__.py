"""The SLO compiler: spec formats -> model -> generators -> files. Imports nothing from Pulumi."""
