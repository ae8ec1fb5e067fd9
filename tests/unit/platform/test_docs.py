"""The stack config reference (docs/stack-config.md) is generated from Pulumi.yaml and must not drift."""

from __future__ import annotations

import shutil

from reliability.platform.docs import REFERENCE, check_reference, config_reference, update_reference

from .conftest import REPO


def test_config_reference_matches_pulumi_yaml():
    assert check_reference() is None, check_reference()


def test_drift_is_detected_and_regeneration_fixes_it(tmp_path):
    (tmp_path / "docs").mkdir()
    for name in ("Pulumi.yaml", REFERENCE):
        shutil.copy(REPO / name, tmp_path / name)
    pulumi_yaml = tmp_path / "Pulumi.yaml"
    pulumi_yaml.write_text(
        pulumi_yaml.read_text().replace(
            "  sloSpecs:\n",
            "  newKey:\n    type: string\n    default: x\n    description: New.\n  sloSpecs:\n",
        )
    )
    assert "differs from Pulumi.yaml" in check_reference(tmp_path)
    update_reference(tmp_path)
    assert check_reference(tmp_path) is None
    assert '| `reliability:newKey` | string | `"x"` | New. |' in config_reference(tmp_path)
