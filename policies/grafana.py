"""Grafana's own security settings, in the values of the grafana chart or kube-prometheus-stack's `grafana`.

Grafana reads them from grafana.ini (`grafana.ini` in chart values, nested or as `section.sub` keys) or
from GF_<SECTION>_<KEY> environment variables (`env` in chart values); either way counts.
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import EnforcementLevel, ResourceValidationArgs, ResourceValidationPolicy

from ._common import (
    Path,
    Report,
    chart_name,
    cite,
    environment,
    fmt_path,
    get,
    helm_values,
    is_helm,
    is_on,
    is_plain_text,
    mapping,
    schema,
    settings,
    string_list,
)

_SCHEMA = schema(
    {
        "secureCookieEnvironments": string_list(
            default=["dev", "staging", "prod"],
            description="Environments where Grafana is served over TLS, so security.cookie_secure must be true "
            "(local is reached over plain http through a port-forward).",
        ),
        "defaultPasswords": string_list(
            default=["admin", "prom-operator"],
            description="Well-known admin passwords (Grafana's and kube-prometheus-stack's defaults).",
        ),
    }
)


def _roots(props: Any) -> list[Path]:
    """Values paths of Grafana's settings in this release: the grafana chart, or kube-prometheus-stack's
    `grafana` subchart when enabled (its default)."""
    chart = chart_name(props)
    values = helm_values(props)
    if chart == "grafana":
        return [()]
    if chart == "kube-prometheus-stack" and get(values, "grafana", "enabled") is not False:
        return [("grafana",)]
    return []


def _setting(values: Any, root: Path, section: str, key: str) -> tuple[Path, Any] | None:
    """(values path, value) of a grafana.ini setting, from a GF_ variable (which Grafana reads over grafana.ini)
    or grafana.ini; None when unset."""
    env = f"GF_{section.replace('.', '_').upper()}_{key.upper()}"
    value = get(values, *root, "env", env)
    if value is not None:
        return (*root, "env", env), value
    ini = mapping(get(values, *root, "grafana.ini"))
    head, _, rest = section.partition(".")
    candidates: list[Path] = [(section, key)]
    if rest:
        candidates.append((head, rest, key))
    for candidate in candidates:
        value = get(ini, *candidate)
        if value is not None:
            return (*root, "grafana.ini", *candidate), value
    return None


def _validate_grafana(args: ResourceValidationArgs, report: Report) -> None:
    if not is_helm(args.resource_type):
        return
    cfg = settings(args, _SCHEMA)
    values = helm_values(args.props)
    for root in _roots(args.props):
        def problem(control: str, path: Path, text: str) -> None:
            report(f"{cite(control)} {fmt_path(('values', *path))} {text}")

        for section, key, control, fix in (
            ("auth.anonymous", "enabled", "Grafana auth.anonymous",
             "lets anyone who reaches Grafana in without logging in: set it false"),
            ("users", "allow_sign_up", "Grafana users.allow_sign_up",
             "lets anyone who reaches Grafana create an account: set it false and invite users or use SSO"),
            ("security", "allow_embedding", "Grafana security.allow_embedding",
             "lets any site frame Grafana (clickjacking): set it false"),
        ):
            found = _setting(values, root, section, key)
            if found and is_on(found[1]):
                problem(control, found[0], f"is true: it {fix}")
        samesite = _setting(values, root, "security", "cookie_samesite")
        if samesite and str(samesite[1]).lower() in ("none", "disabled"):
            problem("Grafana security.cookie_samesite", samesite[0],
                    f"is {samesite[1]!r}: other sites' requests carry the session cookie; set it to lax or strict")
        if environment(args.urn) in cfg["secureCookieEnvironments"]:
            secure = _setting(values, root, "security", "cookie_secure")
            if secure is None or not is_on(secure[1]):
                where = secure[0] if secure else (*root, "grafana.ini", "security", "cookie_secure")
                shown = "unset" if secure is None else repr(secure[1])
                problem("Grafana security.cookie_secure", where,
                        f"is {shown} in {environment(args.urn)}: the session cookie may travel over plain http; "
                        "set it true")
        _check_admin(values, root, cfg, problem)


def _check_admin(values: Any, root: Path, cfg: dict[str, Any], problem: Any) -> None:
    """The admin password comes from a Secret (admin.existingSecret), never from a literal in values."""
    for path in ((*root, "adminPassword"), (*root, "grafana.ini", "security", "admin_password")):
        value = get(values, *path)
        if value is None:
            continue
        if value in cfg["defaultPasswords"]:
            problem("Grafana admin credentials", path, f"is the well-known default {value!r}: keep the admin "
                    "password in a Secret and point admin.existingSecret at it")
        elif is_plain_text(value) and value:
            problem("Grafana admin credentials", path, "holds the admin password in plain values: keep it in a "
                    "Secret and point admin.existingSecret at it")
    if root and get(values, *root, "adminPassword") is None and not get(values, *root, "admin", "existingSecret"):
        problem("Grafana admin credentials", (*root, "admin", "existingSecret"),
                "is unset, so kube-prometheus-stack logs admin in with its default password 'prom-operator': "
                "point it at a Secret holding admin-user and admin-password")


grafana_hardened = ResourceValidationPolicy(
    name="grafana-hardened",
    description="Grafana has no anonymous access, no self sign-up, no embedding, secure session cookies and an "
    "admin password from a Secret.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate_grafana,
    config_schema=_SCHEMA,
)

POLICIES = [grafana_hardened]
