"""Kubernetes Pod Security Standards (baseline and restricted) for workloads, namespaces' admission levels, and TLS on
what is exposed through a load balancer.

CIS Amazon EKS Benchmark 4.2.x and 5.4.5 (controls.yaml maps each). Workloads we or a user define are
checked field by field; a chart's own pods are held to their namespace's Pod Security Admission level
(enforced by the API server for every pod, chart or not) and to `helm-values-unprivileged` for the values
we set, whose allow-list keeps the collector's and chaos-daemon's needs.
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import EnforcementLevel, ResourceValidationArgs, ResourceValidationPolicy

from ._common import (
    UNKNOWN,
    Path,
    Report,
    cite,
    fmt_path,
    get,
    items,
    k8s_group,
    k8s_kind,
    listing,
    mapping,
    namespace_of,
    pod_spec_path,
    schema,
    settings,
    string_list,
    under_helm_chart,
)

_SECCOMP_TYPES = ("RuntimeDefault", "Localhost")
_HOST_NAMESPACES = (("hostNetwork", "CIS EKS 4.2.4"), ("hostPID", "CIS EKS 4.2.2"), ("hostIPC", "CIS EKS 4.2.3"))
# The Kubernetes Pod Security Standards (kubernetes.io/docs/concepts/security/pod-security-standards), as of
# Kubernetes 1.31: what the baseline and restricted levels allow.
_SAFE_SYSCTLS = frozenset({
    "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
})
_SELINUX_TYPES = ("container_t", "container_init_t", "container_kvm_t", "container_engine_t")
_APPARMOR_TYPES = ("RuntimeDefault", "Localhost")
_APPARMOR_ANNOTATION = "container.apparmor.security.beta.kubernetes.io/"
_RESTRICTED_VOLUMES = frozenset({
    "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret",
})

_RESTRICTED_SCHEMA = schema(
    {
        "exemptWorkloads": string_list(
            default=[],
            description="`namespace/name` of workloads (not from a chart) exempt from the restricted profile; "
            "say why in the policy config file.",
        )
    }
)


def _context_problems(security: Any, sc: Path) -> list[tuple[str, str, str]]:
    """(control ids, path, problem and fix) of the fields a pod's and a container's securityContext share."""
    out = []
    if get(security, "windowsOptions", "hostProcess") is True:
        out.append(("PSS baseline", fmt_path((*sc, "windowsOptions", "hostProcess")),
                    "is true: remove it (a HostProcess container runs on the Windows node as the host)"))
    selinux = mapping(get(security, "seLinuxOptions"))
    if get(selinux, "type") not in (None, "", *_SELINUX_TYPES):
        out.append(("PSS baseline", fmt_path((*sc, "seLinuxOptions", "type")),
                    f"is {get(selinux, 'type')!r}: leave it unset or use container_t (container_init_t, "
                    "container_kvm_t and container_engine_t are allowed too)"))
    for field in ("user", "role"):
        if get(selinux, field) not in (None, ""):
            out.append(("PSS baseline", fmt_path((*sc, "seLinuxOptions", field)),
                        f"is {get(selinux, field)!r}: remove it (only the SELinux type and level may be set)"))
    apparmor = get(security, "appArmorProfile", "type")
    if apparmor is not None and apparmor not in _APPARMOR_TYPES:
        out.append(("PSS baseline", fmt_path((*sc, "appArmorProfile", "type")),
                    f"is {apparmor!r}: set it RuntimeDefault (or Localhost with a profile on the nodes)"))
    return out


def _container_problems(container: Any, at: Path, pod_security: Any) -> list[tuple[str, str, str]]:
    """(control ids, path, problem and fix) of one container against the restricted profile."""
    security = mapping(get(container, "securityContext"))
    sc = (*at, "securityContext")
    out = _context_problems(security, sc)
    if get(security, "procMount") not in (None, "Default"):
        out.append(("PSS baseline", fmt_path((*sc, "procMount")),
                    f"is {get(security, 'procMount')!r}: remove it (Default masks the node's /proc paths)"))
    if get(security, "privileged") is True:
        out.append(("CIS EKS 4.2.1", fmt_path((*sc, "privileged")), "is true: remove it"))
    if get(security, "allowPrivilegeEscalation") is not False:
        out.append(("CIS EKS 4.2.5", fmt_path((*sc, "allowPrivilegeEscalation")),
                    "is not false (unset allows it): set it false"))
    drop = [str(c).upper() for c in listing(get(security, "capabilities", "drop"))]
    if "ALL" not in drop:
        out.append(("CIS EKS 4.2.9", fmt_path((*sc, "capabilities", "drop")), 'does not drop ALL: set it to ["ALL"]'))
    added = [str(c) for c in listing(get(security, "capabilities", "add")) if str(c).upper() != "NET_BIND_SERVICE"]
    if added:
        control = "CIS EKS 4.2.7" if any(c.upper() in ("NET_RAW", "ALL") for c in added) else "CIS EKS 4.2.8"
        out.append((control, fmt_path((*sc, "capabilities", "add")),
                    f"adds {', '.join(added)}: add none (NET_BIND_SERVICE is the only one allowed)"))
    seccomp = get(security, "seccompProfile", "type", default=get(pod_security, "seccompProfile", "type"))
    if seccomp not in _SECCOMP_TYPES:
        out.append(("PSS restricted", fmt_path((*sc, "seccompProfile", "type")),
                    "is not RuntimeDefault or Localhost (on the container or the pod): set the pod's "
                    "securityContext.seccompProfile.type RuntimeDefault"))
    for index, port in enumerate(listing(get(container, "ports"))):
        if get(port, "hostPort") not in (None, 0):
            out.append(("PSS baseline", fmt_path((*at, "ports", index, "hostPort")),
                        "binds a port on the node: remove it and reach the pod through a Service"))
    return out


def _pod_problems(props: Any, pod_path: Path, pod: Any, pod_security: Any) -> list[tuple[str, str, str]]:
    """(control ids, path, problem and fix) of the pod-level fields: volumes, sysctls, its securityContext and
    the AppArmor annotations of its template."""
    sc = (*pod_path, "securityContext")
    out = _context_problems(pod_security, sc)
    seccomp = get(pod_security, "seccompProfile", "type")
    if seccomp is not None and seccomp not in _SECCOMP_TYPES:
        out.append(("PSS restricted", fmt_path((*sc, "seccompProfile", "type")),
                    f"is {seccomp!r}: set it RuntimeDefault"))
    for index, sysctl in enumerate(listing(get(pod_security, "sysctls"))):
        name = get(sysctl, "name")
        if isinstance(name, str) and name not in _SAFE_SYSCTLS:
            out.append(("PSS baseline", fmt_path((*sc, "sysctls", index, "name")),
                        f"is {name!r}, which is not namespaced to the pod: remove it (the safe ones are "
                        "kernel.shm_rmid_forced and net.ipv4 port, ping and TCP keepalive settings)"))
    for index, volume in enumerate(listing(get(pod, "volumes"))):
        if get(volume, "hostPath") is not None:
            out.append(("PSS baseline", fmt_path((*pod_path, "volumes", index, "hostPath")),
                        "mounts a directory of the node: use a PersistentVolumeClaim, ConfigMap or emptyDir"))
            continue
        for kind in sorted(str(k) for k in mapping(volume) if k != "name" and str(k) not in _RESTRICTED_VOLUMES):
            out.append(("PSS restricted", fmt_path((*pod_path, "volumes", index, kind)),
                        "is not a volume type the restricted standard allows: use a persistentVolumeClaim (its "
                        "StorageClass names the storage), or a configMap, secret, projected, downwardAPI, emptyDir, "
                        "ephemeral or csi volume"))
    meta = (*pod_path[:-1], "metadata", "annotations")
    for key, value in sorted(items(get(props, *meta)), key=lambda pair: str(pair[0])):
        if str(key).startswith(_APPARMOR_ANNOTATION) and not (
            value == "runtime/default" or (isinstance(value, str) and value.startswith("localhost/"))
        ):
            out.append(("PSS baseline", fmt_path((*meta, str(key))),
                        f"is {value!r}: set it runtime/default (or localhost/<profile>)"))
    return out


def _validate_restricted(args: ResourceValidationArgs, report: Report) -> None:
    pod_path = pod_spec_path(args.resource_type)
    if pod_path is None:
        return
    if under_helm_chart(args.urn, getattr(args.opts, "parent", None)):
        return  # a chart's pods: their namespace's admission level holds them
    if f"{namespace_of(args.props)}/{get(args.props, 'metadata', 'name')}" in settings(args, _RESTRICTED_SCHEMA)[
        "exemptWorkloads"
    ]:
        return
    pod = get(args.props, *pod_path)
    pod_security = mapping(get(pod, "securityContext"))
    problems: list[tuple[str, str, str]] = []
    for field, control in _HOST_NAMESPACES:
        if get(pod, field) is True:
            problems.append((control, fmt_path((*pod_path, field)), "is true: remove it"))
    problems += _pod_problems(args.props, pod_path, pod, pod_security)
    for field in ("initContainers", "containers"):
        for index, container in enumerate(listing(get(pod, field))):
            problems += _container_problems(container, (*pod_path, field, index), pod_security)
    for control, where, problem in problems:
        report(f"{cite(control)} {where} {problem}")


pod_security_restricted = ResourceValidationPolicy(
    name="pod-security-restricted",
    description="Workloads we or a user define (not chart templates) meet the baseline and restricted Pod Security "
    "Standards, field by field.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate_restricted,
    config_schema=_RESTRICTED_SCHEMA,
)

_LEVELS = ("privileged", "baseline", "restricted")
_NAMESPACE_SCHEMA = schema(
    {
        "allowedLevels": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "namespace": {"type": "string", "minLength": 1},
                    "level": {"type": "string", "enum": list(_LEVELS)},
                    "reason": {"type": "string", "minLength": 1},
                },
                "required": ["namespace", "level", "reason"],
                "additionalProperties": False,
            },
            "default": [
                {"namespace": "monitoring", "level": "privileged",
                 "reason": "node-exporter reads the node's metrics with hostNetwork, hostPID and hostPath"},
                {"namespace": "observability", "level": "privileged",
                 "reason": "the OpenTelemetry Collector DaemonSet reads pod logs under /var/log/pods as root"},
                {"namespace": "chaos-mesh", "level": "privileged",
                 "reason": "chaos-daemon enters other pods' namespaces through the container runtime"},
                {"namespace": "k6-operator", "level": "baseline",
                 "reason": "k6 test runs start from TestRun objects whose pod settings teams write; "
                           "baseline keeps them off the host"},
            ],
            "description": "Namespaces allowed a Pod Security Admission level below restricted, and why.",
        }
    }
)


_ENFORCE = "pod-security.kubernetes.io/enforce"


def _floor(args: ResourceValidationArgs, namespace: Any) -> str:
    """The lowest Pod Security Admission level a namespace may enforce: restricted unless allow-listed."""
    allowed_levels = listing(settings(args, _NAMESPACE_SCHEMA)["allowedLevels"])
    allowed = {get(a, "namespace"): get(a, "level") for a in allowed_levels}
    return str(allowed.get(namespace, "restricted"))


def _validate_namespace_level(args: ResourceValidationArgs, report: Report) -> None:
    if args.resource_type == "kubernetes:helm.sh/v3:Release" and get(args.props, "createNamespace") is True:
        # Helm creates the namespace bare: no labels, so the cluster's default level (privileged) applies.
        namespace = get(args.props, "namespace", default="default")
        report(f"{cite('CIS EKS 4.2.1', 'PSS restricted')} createNamespace is true: Helm creates namespace "
               f"{namespace} without a {_ENFORCE} label, so the cluster's default (privileged) admits any pod; set "
               f"createNamespace false and create the namespace as a Namespace object labelled {_ENFORCE}: "
               f"{_floor(args, namespace)}")
        return
    if k8s_kind(args.resource_type) != "Namespace" or k8s_group(args.resource_type) != "core":
        return
    name = get(args.props, "metadata", "name", default=args.name)
    label = _ENFORCE
    level = get(args.props, "metadata", "labels", label, unknown=UNKNOWN)
    if level is UNKNOWN:
        return
    floor = _floor(args, name)
    where = f'metadata.labels["{label}"]'
    if level is None:
        report(f"{cite('CIS EKS 4.2.1', 'PSS restricted')} {where} is unset, so the cluster's default (privileged) "
               f"admits any pod: set it to {floor}")
    elif level not in _LEVELS or _LEVELS.index(level) < _LEVELS.index(floor):
        report(f"{cite('CIS EKS 4.2.1', 'PSS restricted')} {where} is {level!r} in namespace {name}: set it to "
               f"{floor}, or, if its pods need more, add {{\"namespace\": \"{name}\", \"level\": \"{level}\", "
               '"reason": "..."} to allowedLevels')


namespace_pod_security = ResourceValidationPolicy(
    name="namespace-pod-security",
    description="Every Namespace enforces the restricted Pod Security Standard, except those allow-listed with "
    "a reason (node agents, chaos-daemon); no Helm release creates a namespace bare.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate_namespace_level,
    config_schema=_NAMESPACE_SCHEMA,
)

_TLS_SCHEMA = schema(
    {
        "internalAnnotations": string_list(
            default=["service.beta.kubernetes.io/aws-load-balancer-scheme=internal",
                     "service.beta.kubernetes.io/aws-load-balancer-internal=true"],
            description="`annotation=value` pairs that make a LoadBalancer Service internal (no TLS required).",
        )
    }
)
_LB_CERT = "service.beta.kubernetes.io/aws-load-balancer-ssl-cert"
_ALB_CERT = "alb.ingress.kubernetes.io/certificate-arn"


def _validate_tls(args: ResourceValidationArgs, report: Report) -> None:
    kind = k8s_kind(args.resource_type)
    props = args.props
    annotations = mapping(get(props, "metadata", "annotations"))
    if kind == "Service" and get(props, "spec", "type") == "LoadBalancer":
        pairs = [p.split("=", 1) for p in settings(args, _TLS_SCHEMA)["internalAnnotations"] if "=" in p]
        internal = any(str(annotations.get(k, "")).lower() == v.lower() for k, v in pairs)
        if not internal and not annotations.get(_LB_CERT):
            report(f"{cite('CIS EKS 5.4.5')} metadata.annotations has no {_LB_CERT}: an internet-facing load "
                   "balancer serves plain TCP; set it to an ACM certificate ARN, or make the load balancer internal "
                   "(service.beta.kubernetes.io/aws-load-balancer-scheme: internal)")
    elif kind == "Ingress" and k8s_group(args.resource_type) in ("networking.k8s.io", "extensions"):
        if not listing(get(props, "spec", "tls")) and not annotations.get(_ALB_CERT):
            report(f"{cite('CIS EKS 5.4.5')} spec.tls is empty and metadata.annotations has no {_ALB_CERT}: add a "
                   "tls block (or the ALB's certificate) so the Ingress serves HTTPS")
    elif kind == "Gateway" and k8s_group(args.resource_type) == "gateway.networking.k8s.io":
        listeners = listing(get(props, "spec", "listeners"))
        plain = [i for i, lst in enumerate(listeners) if get(lst, "protocol") in ("HTTP", "TCP", "UDP")]
        if plain and len(plain) == len(listeners):
            report(f"{cite('CIS EKS 5.4.5')} spec.listeners[{plain[0]}].protocol is "
                   f"{get(listeners[plain[0]], 'protocol')} and no listener serves HTTPS or TLS: add an HTTPS "
                   "listener with certificateRefs (and redirect HTTP to it)")


load_balancer_tls = ResourceValidationPolicy(
    name="load-balancer-tls",
    description="Internet-facing LoadBalancer Services, Ingresses and Gateways serve TLS.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate_tls,
    config_schema=_TLS_SCHEMA,
)

POLICIES = [pod_security_restricted, namespace_pod_security, load_balancer_tls]
