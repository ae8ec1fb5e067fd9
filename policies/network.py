"""EC2/VPC policies: security groups, network ACLs, public IPs, instance metadata, VPC flow logs.

AWS Foundational Security Best Practices EC2.x (controls.yaml maps each). The stack itself creates
no security group or instance (EKS manages them); these catch what a user adds beside it.
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from ._common import UNKNOWN, Report, cite, fmt_path, get, is_on, listing, number, schema, settings, string_list

_OPEN = ("0.0.0.0/0", "::/0")
_INGRESS_SCHEMA = schema(
    {
        "publicPorts": {
            "type": "array",
            "items": {"type": "number"},
            "default": [80, 443],
            "description": "TCP ports a security group may open to 0.0.0.0/0 or ::/0 (FSBP EC2.18).",
        }
    }
)


def _ports(rule: Any, low: str, high: str) -> tuple[float, float]:
    """(from, to) of a rule; protocol -1 (all) or no ports means every port."""
    if str(get(rule, "protocol", default=get(rule, "ipProtocol", default=""))) in ("-1", "all"):
        return 0, 65535
    start, end = number(get(rule, low)), number(get(rule, high))
    return (start if start is not None else 0, end if end is not None else 65535)


def _ports_text(low: float, high: float) -> str:
    if (low, high) == (0, 65535):
        return "every port"
    return f"port {low:g}" if low == high else f"ports {low:g}-{high:g}"


def _open_ingress(rule: Any, where: str, allowed: list[float]) -> str | None:
    """The problem of one ingress rule open to the internet on a port not allowed, else None."""
    sources = [*listing(get(rule, "cidrBlocks")), *listing(get(rule, "ipv6CidrBlocks")),
               get(rule, "cidrIpv4"), get(rule, "cidrIpv6")]
    open_from = [s for s in sources if s in _OPEN]
    if not open_from:
        return None
    low, high = _ports(rule, "fromPort", "toPort")
    if low == high and low in allowed:
        return None
    return (f"{cite('FSBP EC2.18', 'FSBP EC2.19', 'Security Hub EC2.53')} {where} opens {_ports_text(low, high)} to "
            f"{', '.join(open_from)}: "
            "allow only your own CIDRs or a load balancer's security group (ports open to the internet: "
            f"{', '.join(f'{p:g}' for p in allowed)}, publicPorts in the policy config)")


def _validate_security_groups(args: ResourceValidationArgs, report: Report) -> None:
    allowed = [float(p) for p in settings(args, _INGRESS_SCHEMA)["publicPorts"]]
    kind = args.resource_type
    if kind == "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup":
        rules = [f for f in ("ingress", "egress") if listing(get(args.props, f))]
        if rules:
            report(f"{cite('FSBP EC2.2')} {' and '.join(rules)} of the VPC's default security group allow traffic: "
                   "leave its ingress and egress empty and give workloads security groups of their own")
        return
    if kind == "aws:ec2/securityGroup:SecurityGroup":
        for index, rule in enumerate(listing(get(args.props, "ingress"))):
            problem = _open_ingress(rule, fmt_path(("ingress", index)), allowed)
            if problem:
                report(problem)
    elif (kind == "aws:ec2/securityGroupRule:SecurityGroupRule" and get(args.props, "type") == "ingress") or (
        kind == "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
    ):
        problem = _open_ingress(args.props, "the ingress rule", allowed)
        if problem:
            report(problem)


security_groups_restricted = ResourceValidationPolicy(
    name="security-groups-restricted",
    description="No security group opens a port other than 80/443 to 0.0.0.0/0 or ::/0; the VPC's default "
    "security group allows nothing.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate_security_groups,
    config_schema=_INGRESS_SCHEMA,
)


_NACL_SCHEMA = schema(
    {
        "adminPorts": {
            "type": "array",
            "items": {"type": "number"},
            "default": [22, 3389],
            "description": "TCP ports no network ACL may open to 0.0.0.0/0 or ::/0 (FSBP EC2.21: SSH and RDP).",
        }
    }
)
_PORT_NAMES = {22: "SSH", 3389: "RDP"}


def _open_admin(rule: Any, action_key: str, admin_ports: list[float]) -> tuple[list[str], str] | None:
    """(sources, ports text) when an allowing network ACL ingress rule lets the internet reach SSH or RDP."""
    if str(get(rule, action_key, default="")).lower() != "allow":
        return None
    open_from = [s for s in (get(rule, "cidrBlock"), get(rule, "ipv6CidrBlock")) if s in _OPEN]
    protocol = str(get(rule, "protocol", default="")).lower()
    if not open_from or protocol not in ("-1", "all", "6", "tcp"):
        return None
    low, high = _ports(rule, "fromPort", "toPort")
    if protocol not in ("-1", "all") and (low, high) == (0, 0):
        return None
    hit = [f"{port:g} ({_PORT_NAMES[int(port)]})" if int(port) in _PORT_NAMES else f"{port:g}"
           for port in admin_ports if low <= port <= high]
    return (open_from, ", ".join(hit)) if hit else None


def _validate_network_acls(args: ResourceValidationArgs, report: Report) -> None:
    kind = args.resource_type
    admin_ports = sorted(float(p) for p in settings(args, _NACL_SCHEMA)["adminPorts"])
    found: list[tuple[str, tuple[list[str], str]]] = []
    if kind == "aws:ec2/networkAclRule:NetworkAclRule":
        if get(args.props, "egress") is not True:
            problem = _open_admin(args.props, "ruleAction", admin_ports)
            if problem:
                found.append(("the network ACL rule", problem))
    elif kind in ("aws:ec2/networkAcl:NetworkAcl", "aws:ec2/defaultNetworkAcl:DefaultNetworkAcl"):
        for index, rule in enumerate(listing(get(args.props, "ingress"))):
            problem = _open_admin(rule, "action", admin_ports)
            if problem:
                found.append((fmt_path(("ingress", index)), problem))
    for where, (sources, ports) in found:
        report(f"{cite('FSBP EC2.21')} {where} allows {', '.join(sources)} to reach {ports}: allow only your own "
               "CIDRs, or keep remote administration off the internet and reach nodes through SSM Session Manager")


network_acls_restricted = ResourceValidationPolicy(
    name="network-acls-restricted",
    description="No network ACL lets 0.0.0.0/0 or ::/0 reach SSH (22) or RDP (3389).",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate_network_acls,
    config_schema=_NACL_SCHEMA,
)


_SUBNET_SCHEMA = schema(
    {"subnetTypes": string_list(default=["aws:ec2/subnet:Subnet"], description="Resource types that are subnets.")}
)


def _validate_subnet(args: ResourceValidationArgs, report: Report) -> None:
    subnet = args.resource_type in settings(args, _SUBNET_SCHEMA)["subnetTypes"]
    if subnet and get(args.props, "mapPublicIpOnLaunch") is True:
        report(f"{cite('FSBP EC2.15')} mapPublicIpOnLaunch is true: every instance started in this subnet gets a "
               "public IP; set it false (NAT gateways and load balancers get their addresses without it)")
    elif args.resource_type == "aws:ec2/launchTemplate:LaunchTemplate":
        for index, interface in enumerate(listing(get(args.props, "networkInterfaces"))):
            if is_on(get(interface, "associatePublicIpAddress")):
                report(f"{cite('FSBP EC2.25')} networkInterfaces[{index}].associatePublicIpAddress is true: every "
                       "instance launched from this template gets a public IP; set it false and reach the internet "
                       "through a NAT gateway")
    elif args.resource_type == "aws:ec2/instance:Instance" and is_on(get(args.props, "associatePublicIpAddress")):
        report(f"{cite('FSBP EC2.9')} associatePublicIpAddress is true: the instance gets a public IP; set it false, "
               "start it in a private subnet and reach the internet through a NAT gateway")


subnet_no_public_ip = ResourceValidationPolicy(
    name="subnet-no-public-ip",
    description="Subnets, launch templates and instances do not hand out public IPv4 addresses.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate_subnet,
    config_schema=_SUBNET_SCHEMA,
)

_METADATA_SCHEMA = schema(
    {
        "instanceTypes": string_list(default=["aws:ec2/instance:Instance"],
                                     description="Resource types that are EC2 instances (FSBP EC2.8)."),
        "launchTemplateTypes": string_list(default=["aws:ec2/launchTemplate:LaunchTemplate"],
                                           description="Resource types that are launch templates (FSBP EC2.170)."),
    }
)


def _validate_metadata(args: ResourceValidationArgs, report: Report) -> None:
    cfg = settings(args, _METADATA_SCHEMA)
    if args.resource_type in cfg["instanceTypes"]:
        control = "FSBP EC2.8"
    elif args.resource_type in cfg["launchTemplateTypes"]:
        control = "FSBP EC2.170"
    else:
        return
    tokens = get(args.props, "metadataOptions", "httpTokens", unknown=UNKNOWN)
    if tokens is not UNKNOWN and tokens != "required":
        shown = "unset" if tokens is None else repr(tokens)
        report(f"{cite(control)} metadataOptions.httpTokens is {shown}: set it to 'required' (IMDSv2 only), so a "
               "request forgery in a pod cannot read the node's credentials")


instance_metadata_v2 = ResourceValidationPolicy(
    name="instance-metadata-v2",
    description="EC2 instances and launch templates (e.g. for EKS nodes) require IMDSv2.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate_metadata,
    config_schema=_METADATA_SCHEMA,
)


_FLOW_SCHEMA = schema(
    {"vpcTypes": string_list(default=["aws:ec2/vpc:Vpc"], description="Resource types that are VPCs.")}
)


def _validate_flow_logs(args: StackValidationArgs, report: Report) -> None:
    logs = [r for r in args.resources if r.resource_type == "aws:ec2/flowLog:FlowLog"]
    vpc_types = settings(args, _FLOW_SCHEMA)["vpcTypes"]
    for vpc in args.resources:
        if vpc.resource_type not in vpc_types:
            continue
        covered = any(
            any(dep.urn == vpc.urn for dep in [*log.dependencies, *(log.property_dependencies or {}).get("vpcId", [])])
            for log in logs
        )
        if not covered:
            report(f"{cite('FSBP EC2.6')} no FlowLog has this VPC as vpcId: add an aws.ec2.FlowLog (trafficType "
                   "REJECT at least) to keep a record of the traffic the VPC refused", vpc.urn)


vpc_flow_logs = StackValidationPolicy(
    name="vpc-flow-logs",
    description="Every VPC has a flow log (advisory: the stacks do not create one yet).",
    enforcement_level=EnforcementLevel.ADVISORY,
    validate=_validate_flow_logs,
    config_schema=_FLOW_SCHEMA,
)

POLICIES = [security_groups_restricted, network_acls_restricted, subnet_no_public_ip, instance_metadata_v2,
            vpc_flow_logs]
