"""The Pulumi platform seen from Python: the typed stack config (config.py), the stack
files (stackfiles.py), which environments exist (environments.py), the offline render
under mocks (render.py), `sre up` (up.py) and the generated config reference (docs.py)."""

from pathlib import Path

# The repository: Pulumi.yaml, stacks/, components/ and slo-specs/ live here.
PROJECT_DIR = Path(__file__).resolve().parents[2]
