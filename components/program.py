"""The Pulumi program: read the config once, build the platform, export what users need.

`__main__.py` calls `program()` under the Pulumi CLI; `sre render` calls it under mocks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import yaml

from reliability.platform.config import from_pulumi

from .platform import Platform, PlatformArgs

DEFAULTS_FILE = Path(__file__).with_name("defaults.yaml")
STACK_NAME = "reliability"


def defaults() -> dict[str, Any]:
    return yaml.safe_load(DEFAULTS_FILE.read_text(encoding="utf-8"))


def program() -> Platform:
    cfg = from_pulumi(defaults())  # raises pulumi.RunError naming every bad key; nothing exists yet
    platform = Platform(STACK_NAME, PlatformArgs(cfg))
    pulumi.export("environment", cfg.environment)
    pulumi.export("urls", platform.urls)
    pulumi.export("grafanaAdminPassword", platform.grafana_admin_password)
    if cfg.is_cloud:
        pulumi.export("kubeconfig", platform.kubeconfig)
    return platform
