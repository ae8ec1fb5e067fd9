"""The README's config reference is generated from Pulumi.yaml and must not drift."""

from __future__ import annotations

import shutil

from reliability.platform.docs import check_readme, config_reference, update_readme

from .conftest import REPO


def test_readme_config_reference_matches_pulumi_yaml():
    assert check_readme() is None, check_readme()


def test_drift_is_detected_and_regeneration_fixes_it(tmp_path):
    for name in ("Pulumi.yaml", "README.md"):
        shutil.copy(REPO / name, tmp_path / name)
    pulumi_yaml = tmp_path / "Pulumi.yaml"
    pulumi_yaml.write_text(
        pulumi_yaml.read_text().replace(
            "  sloSpecs:\n",
            "  newKey:\n    type: string\n    default: x\n    description: New.\n  sloSpecs:\n",
        )
    )
    assert "differs from Pulumi.yaml" in check_readme(tmp_path)
    update_readme(tmp_path)
    assert check_readme(tmp_path) is None
    assert '| `reliability:newKey` | string | `"x"` | New. |' in config_reference(tmp_path)
