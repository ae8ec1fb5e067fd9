"""SLO hygiene policies: alerts carry what on-call needs, and prod pages reach a pager."""

from __future__ import annotations

import base64
import binascii
import contextlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import yaml
from pulumi_policy import EnforcementLevel, ResourceValidationArgs, ResourceValidationPolicy

from ._common import (
    SECRET_TEXT,
    Report,
    environment,
    fmt_path,
    get,
    helm_values,
    is_helm,
    items,
    k8s_group,
    k8s_kind,
    listing,
    mapping,
    schema,
    settings,
    string_list,
    walk,
)
from .alert_labels import fired_labels, recorded_series

# ================================================================== alert rules

_ALERT_SCHEMA = schema(
    {
        "requiredLabels": string_list(
            default=["severity"],
            description="Labels every alerting rule sets (routing reads them).",
        ),
        "requiredAnnotations": string_list(
            default=["summary", "runbook_url"],
            description="Annotations every alerting rule sets (on-call reads them).",
        ),
    }
)


def _rule_groups(args: ResourceValidationArgs) -> Iterator[tuple[str, Any]]:
    """(where, groups) for PrometheusRule objects and rule groups anywhere in Helm values
    (kube-prometheus-stack `additionalPrometheusRulesMap`, a chart's `rules`, ...)."""
    if k8s_group(args.resource_type) == "monitoring.coreos.com" and k8s_kind(args.resource_type) == "PrometheusRule":
        yield "spec.groups", get(args.props, "spec", "groups")
    elif is_helm(args.resource_type):
        for path, node in walk(helm_values(args.props)):
            if path and path[-1] == "groups" and any(get(g, "rules") is not None for g in listing(node)):
                yield f"values.{fmt_path(path)}", node


def _validate_alerts(args: ResourceValidationArgs, report: Report) -> None:
    cfg = settings(args, _ALERT_SCHEMA)
    for where, groups in _rule_groups(args):
        recorded = recorded_series(listing(groups))
        for g_index, group in enumerate(listing(groups)):
            group_name = get(group, "name", default=f"{where}[{g_index}]")
            for r_index, rule in enumerate(listing(get(group, "rules"))):
                alert = get(rule, "alert")
                if not isinstance(alert, str):
                    continue
                # A label counts where the alert fires with it: set by the rule, or carried by the
                # recorded series it compares (burn-rate alerts leave `team` and `slo` to those).
                labels = fired_labels(rule, recorded)
                missing = [f"labels.{k}" for k in cfg["requiredLabels"] if not _filled(labels.get(k))]
                missing += [
                    f"annotations.{k}" for k in cfg["requiredAnnotations"] if not _filled(get(rule, "annotations", k))
                ]
                if missing:
                    report(f"alert {alert} ({_rule_label(group_name, r_index, rule)}) has no {', '.join(missing)}")


def _rule_label(group_name: str, index: int, rule: Any) -> str:
    """Which rule: alerts of one name share a group (an SLO's fast and slow burn alerts), so the
    rule's index in the group tells them apart, and its severity tells a reader which is which."""
    severity = get(rule, "labels", "severity")
    shown = f', severity="{severity}"' if _filled(severity) else ""
    return f"group {group_name}, rules[{index}]{shown}"


def _filled(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


alert_rule_metadata = ResourceValidationPolicy(
    name="alert-rule-metadata",
    description="Every alerting rule (PrometheusRule objects and rules in Helm values) has a severity label "
    "and summary and runbook_url annotations.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate_alerts,
    config_schema=_ALERT_SCHEMA,
)

# ================================================================== page routes end at a pager

_PAGES_SCHEMA = schema(
    {
        "environments": string_list(
            default=["prod"],
            description="Environments whose pages must reach a pager.",
        ),
        "pageSeverities": string_list(
            # The routing generator (reliability/alerting/generate.py) pages on severity=~"page|critical":
            # `critical` is the monitoring mixins' word for a page, and kube-prometheus-stack's rules use it.
            default=["page", "critical"],
            description="Values of the `severity` label that mean: wake someone up.",
        ),
        "pagingIntegrations": string_list(
            default=["pagerduty_configs", "opsgenie_configs"],
            description="Receiver integrations that page (Slack, e-mail and webhooks do not).",
        ),
        "configKeys": string_list(
            default=["alertmanager.yaml"],
            description="Keys of Secrets/ConfigMaps that hold an Alertmanager configuration.",
        ),
    }
)
_MATCHER = re.compile(r'^\s*([A-Za-z_][A-Za-z0-9_]*|"[^"]+")\s*(=~|!~|!=|=)\s*(.*?)\s*$')


@dataclass(frozen=True)
class Matcher:
    name: str
    op: str
    value: str

    def accepts(self, label_value: str) -> bool:
        if self.op in ("=", "!="):
            hit = label_value == self.value
        else:
            try:
                hit = re.fullmatch(self.value, label_value) is not None
            except re.error:
                hit = False
        return hit if self.op in ("=", "=~") else not hit

    def __str__(self) -> str:
        return f'{self.name}{self.op}"{self.value}"'


def _split_matchers(text: str) -> list[str]:
    """`{a="b", c=~"d,e"}` or `a="b"` -> ['a="b"', 'c=~"d,e"'] (commas inside quotes kept)."""
    text = text.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    parts, current, quoted, escaped = [], "", False, False
    for char in text:
        if escaped:
            current, escaped = current + char, False
        elif char == "\\":
            current, escaped = current + char, True
        elif char == '"':
            current, quoted = current + char, not quoted
        elif char == "," and not quoted:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return [p for p in (p.strip() for p in parts) if p]


def route_matchers(route: Any) -> list[Matcher]:
    """A route's matchers in Alertmanager's own format (`matchers`, and the older `match`/`match_re`)
    and in the AlertmanagerConfig CRD's (`matchers: [{name, value, matchType}]`)."""
    out = []
    for name, value in items(get(route, "match")):
        out.append(Matcher(str(name), "=", str(value)))
    for name, value in items(get(route, "match_re")):
        out.append(Matcher(str(name), "=~", str(value)))
    for item in listing(get(route, "matchers")):
        if isinstance(item, str):
            for text in _split_matchers(item):
                match = _MATCHER.match(text)
                if match:
                    value = match[3]
                    if len(value) >= 2 and value[0] == value[-1] == '"':
                        value = value[1:-1].replace('\\"', '"')
                    out.append(Matcher(match[1].strip('"'), match[2], value))
        elif isinstance(item, Mapping):
            op = get(item, "matchType") or ("=~" if get(item, "regex") is True else "=")
            out.append(Matcher(str(get(item, "name", default="")), str(op), str(get(item, "value", default=""))))
    return out


def _normalise(config: Any) -> tuple[Any, dict[str, Any]]:
    """(route, receivers by name), for alertmanager.yaml and for an AlertmanagerConfig spec."""
    receivers = {}
    for receiver in listing(get(config, "receivers")):
        name = get(receiver, "name")
        if isinstance(name, str):
            receivers[name] = receiver
    return get(config, "route"), receivers


def _integrations(receiver: Any) -> set[str]:
    """Integrations a receiver has, as alertmanager.yaml names (CRD `pagerdutyConfigs` -> `pagerduty_configs`)."""
    found = set()
    for key, value in items(receiver):
        if isinstance(key, str) and key != "name" and listing(value):
            found.add(key[: -len("Configs")].lower() + "_configs" if key.endswith("Configs") else key)
    return found


def page_route_problems(
    config: Any, page_severities: list[str], paging: list[str]
) -> list[str]:
    """Routes that select pages (every `severity` matcher on them and their ancestors accepts a page
    severity) and end there (no `continue: true`) but whose receiver cannot page."""
    route, receivers = _normalise(config)
    problems: list[str] = []
    if not isinstance(route, Mapping):
        return problems

    def visit(node: Any, path: str, inherited_receiver: Any, inherited: list[Matcher]) -> None:
        own = route_matchers(node)
        matchers = [*inherited, *own]
        receiver = get(node, "receiver", default=inherited_receiver)
        severity = [m for m in matchers if m.name == "severity"]
        pages = bool(severity) and any(all(m.accepts(s) for m in severity) for s in page_severities)
        if pages and get(node, "continue") is not True:
            shown = ", ".join(str(m) for m in own) or "inherited"
            if receiver not in receivers:
                problems.append(f"{path} ({shown}) sends pages to receiver '{receiver}', which is not defined")
            elif not _integrations(receivers[receiver]) & set(paging):
                problems.append(f"{path} ({shown}) sends pages to receiver '{receiver}', which has no "
                                f"{' or '.join(paging)}")
        for index, child in enumerate(listing(get(node, "routes"))):
            visit(child, f"{path}.routes[{index}]", receiver, matchers)

    visit(route, "route", None, [])
    return problems


def _configs(args: ResourceValidationArgs, keys: list[str]) -> Iterator[tuple[str, Any]]:
    """(where, config text or object) of every Alertmanager configuration the resource carries."""
    props = args.props
    kind = k8s_kind(args.resource_type)
    group = k8s_group(args.resource_type)
    if group == "core" and kind in ("Secret", "ConfigMap"):
        for field in ("stringData", "data"):
            for key, value in items(get(props, field)):
                if key not in keys:
                    continue
                if kind == "Secret" and field == "data" and isinstance(value, str) and value != SECRET_TEXT:
                    # Secret `data` is base64 (SecretText too, in a real preview).
                    with contextlib.suppress(binascii.Error, ValueError):
                        value = base64.b64decode(value, validate=True).decode("utf-8")
                yield fmt_path((field, key)), value
    elif group == "monitoring.coreos.com" and kind == "AlertmanagerConfig":
        yield "spec", get(props, "spec")
    elif is_helm(args.resource_type):
        for path, node in walk(helm_values(args.props)):
            if isinstance(node, Mapping) and isinstance(get(node, "route"), Mapping) and get(node, "receivers"):
                yield f"values.{fmt_path(path)}", node


def _validate_pages(args: ResourceValidationArgs, report: Report) -> None:
    cfg = settings(args, _PAGES_SCHEMA)
    env = environment(args.urn)
    if env not in cfg["environments"]:
        return
    for where, config in _configs(args, cfg["configKeys"]):
        if config == SECRET_TEXT:
            args.not_applicable(f"{where} is a secret value here: the Alertmanager config cannot be read")
        if isinstance(config, str):
            try:
                config = yaml.safe_load(config)
            except yaml.YAMLError as exc:
                report(f"{where} is not valid YAML: {str(exc).splitlines()[0]}")
                continue
        for problem in page_route_problems(mapping(config), cfg["pageSeverities"], cfg["pagingIntegrations"]):
            report(f"{where}: {problem}")


pages_reach_pager = ResourceValidationPolicy(
    name="pages-reach-pager",
    description="In prod every Alertmanager route that selects severity page or critical ends at a receiver "
    "that pages (PagerDuty, OpsGenie), not chat or a webhook.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate_pages,
    config_schema=_PAGES_SCHEMA,
)

POLICIES = [alert_rule_metadata, pages_reach_pager]
