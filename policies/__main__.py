"""The pack's entry point: `pulumi preview --policy-pack policies` runs this file.

The CLI starts `python -m pulumi.policy <engine> <pack dir>`, which runs this file with
runpy.run_path(run_name="__main__") and the pack directory as sys.path[0]. `PolicyPack(...)`
serves gRPC and never returns, so it is only built under that guard: importing
`policies.__main__` (tests, `sre policy check`) starts nothing. The repository root is put on
sys.path so the policies import as the `policies` package (no module in this folder may share a
name with a standard or installed module, since this folder is sys.path[0]).
"""

if __name__ == "__main__":
    import sys
    from pathlib import Path

    sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

    from pulumi_policy import EnforcementLevel, PolicyPack

    from policies import PACK_NAME, POLICIES, keep_secrets_marked

    keep_secrets_marked()
    PolicyPack(name=PACK_NAME, enforcement_level=EnforcementLevel.MANDATORY, policies=POLICIES)
