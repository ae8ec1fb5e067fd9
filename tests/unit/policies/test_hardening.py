"""Policies against published controls (EKS, EC2/VPC, KMS, S3 TLS, principals, Pod Security, Grafana):
a passing fixture, one field broken, the exact message."""

from __future__ import annotations

import json
from typing import Any

import pytest

from policies import eks, encryption, grafana, network, pod_security, principals, security

from .helpers import broken, check_resource, check_stack, resource

CLUSTER = "aws:eks/cluster:Cluster"
GOOD_CLUSTER = {
    "vpcConfig": {"endpointPrivateAccess": True, "endpointPublicAccess": True, "publicAccessCidrs": ["198.51.100.0/24"]},
    "encryptionConfig": {"provider": {"keyArn": "arn:aws:kms:eu-west-1:1:key/k"}, "resources": ["secrets"]},
    "enabledClusterLogTypes": ["api", "audit", "authenticator"],
}
IRSA = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
    "Principal": {"Federated": "arn:aws:iam::1:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/X"},
    "Condition": {"StringEquals": {"oidc.eks.eu-west-1.amazonaws.com/id/X:aud": "sts.amazonaws.com"},
                  "StringLike": {"oidc.eks.eu-west-1.amazonaws.com/id/X:sub": ["system:serviceaccount:monitoring:thanos"]}},
}]}
GITHUB_OIDC = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
    "Principal": {"Federated": "arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com"},
    "Condition": {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
                  "StringLike": {"token.actions.githubusercontent.com:sub": "repo:acme/shop:ref:refs/heads/main"}},
}]}
ORG_TRUST = {"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": "*"},
                            "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}}]}
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
CONTAINER = {"name": "app", "image": "x", "securityContext": {
    "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}, "runAsNonRoot": True}}
GOOD_DEPLOYMENT = {"metadata": {"name": "app", "namespace": "apps"}, "spec": {"template": {"spec": {
    "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}}, "containers": [CONTAINER]}}}}
GRAFANA_VALUES = {"admin": {"existingSecret": "grafana-admin"}, "grafana.ini": {
    "auth.anonymous": {"enabled": False}, "users": {"allow_sign_up": False},
    "security": {"allow_embedding": False, "cookie_samesite": "lax", "cookie_secure": True}}}
NAMESPACE = "kubernetes:core/v1:Namespace"
ENFORCE = "pod-security.kubernetes.io/enforce"


def _set(path: tuple[Any, ...], value: Any) -> Any:
    def change(d: dict[str, Any]) -> None:
        for key in path[:-1]:
            d = d[key]
        if value is _DELETE:
            del d[path[-1]]
        else:
            d[path[-1]] = value
    return change


_DELETE = object()
C = "spec.template.spec.containers[0].securityContext"
SC = ("spec", "template", "spec", "containers", 0, "securityContext")
POD_SC = ("spec", "template", "spec", "securityContext")
APPARMOR = "container.apparmor.security.beta.kubernetes.io"

# (case, policy, type, good props, change, messages)
CASES: list[tuple[str, Any, str, dict[str, Any], Any, list[str]]] = [
    ("endpoint open to the internet", eks.eks_endpoint_restricted, CLUSTER, GOOD_CLUSTER,
     _set(("vpcConfig", "publicAccessCidrs"), ["0.0.0.0/0"]),
     ["[CIS EKS 5.4.1] vpcConfig.publicAccessCidrs lets 0.0.0.0/0 reach the public API endpoint: list the CIDRs of "
      "your VPN or office (cluster.publicAccessCidrs), or set vpcConfig.endpointPublicAccess false"]),
    ("endpoint CIDRs unset", eks.eks_endpoint_restricted, CLUSTER, GOOD_CLUSTER,
     _set(("vpcConfig", "publicAccessCidrs"), _DELETE),
     ["[CIS EKS 5.4.1] vpcConfig.publicAccessCidrs lets 0.0.0.0/0 (unset) reach the public API endpoint: list the "
      "CIDRs of your VPN or office (cluster.publicAccessCidrs), or set vpcConfig.endpointPublicAccess false"]),
    ("no private access", eks.eks_endpoint_restricted, CLUSTER, GOOD_CLUSTER,
     _set(("vpcConfig", "endpointPrivateAccess"), _DELETE),
     ["[CIS EKS 5.4.1] vpcConfig.endpointPrivateAccess is not true, so nodes reach the API server over the internet: "
      "set vpcConfig.endpointPrivateAccess true"]),
    ("secrets not encrypted", eks.eks_secrets_encrypted, CLUSTER, GOOD_CLUSTER,
     _set(("encryptionConfig", "resources"), []),
     ["[CIS EKS 5.3.1, FSBP EKS.3] encryptionConfig does not cover secrets with a KMS key: set encryptionConfig "
      '{provider: {keyArn: <a KMS key with rotation on>}, resources: ["secrets"]}']),
    ("no audit log", eks.eks_control_plane_logging, CLUSTER, GOOD_CLUSTER,
     _set(("enabledClusterLogTypes",), ["api", "authenticator"]),
     ["[CIS EKS 2.1.1, FSBP EKS.8] enabledClusterLogTypes leaves out audit: add them, so who did what to the cluster "
      "is on record"]),
    ("key rotation unset", encryption.kms_key_rotation, "aws:kms/key:Key", {"enableKeyRotation": True},
     _set(("enableKeyRotation",), _DELETE),
     ["[Security Hub KMS.4] enableKeyRotation is unset (unset is off): set it true, KMS then rotates the key material every "
      "year"]),
    ("SSH open to the world", network.security_groups_restricted, "aws:ec2/securityGroup:SecurityGroup",
     {"ingress": [{"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["0.0.0.0/0"]}]},
     _set(("ingress", 0, "fromPort"), 22),
     ["[FSBP EC2.18, FSBP EC2.19, Security Hub EC2.53] ingress[0] opens ports 22-443 to 0.0.0.0/0: allow only your own CIDRs "
      "or a load balancer's security group (ports open to the internet: 80, 443, publicPorts in the policy config)"]),
    ("every port over IPv6", network.security_groups_restricted,
     "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", {"ipProtocol": "-1", "cidrIpv4": "10.0.0.0/8"},
     _set(("cidrIpv4",), "::/0"),
     ["[FSBP EC2.18, FSBP EC2.19, Security Hub EC2.53] the ingress rule opens every port to ::/0: allow only your own CIDRs "
      "or a load balancer's security group (ports open to the internet: 80, 443, publicPorts in the policy config)"]),
    ("default security group with rules", network.security_groups_restricted,
     "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", {"vpcId": "v"},
     _set(("egress",), [{"protocol": "-1", "cidrBlocks": ["0.0.0.0/0"]}]),
     ["[FSBP EC2.2] egress of the VPC's default security group allow traffic: leave its ingress and egress empty and "
      "give workloads security groups of their own"]),
    ("NACL rule opens SSH to the world", network.network_acls_restricted, "aws:ec2/networkAclRule:NetworkAclRule",
     {"networkAclId": "acl", "ruleNumber": 100, "protocol": "tcp", "ruleAction": "allow", "cidrBlock": "10.0.0.0/8",
      "fromPort": 22, "toPort": 22}, _set(("cidrBlock",), "0.0.0.0/0"),
     ["[FSBP EC2.21] the network ACL rule allows 0.0.0.0/0 to reach 22 (SSH): allow only your own CIDRs, or keep "
      "remote administration off the internet and reach nodes through SSM Session Manager"]),
    ("NACL opens every port over IPv6", network.network_acls_restricted, "aws:ec2/networkAcl:NetworkAcl",
     {"vpcId": "v", "ingress": [{"ruleNo": 100, "protocol": "tcp", "action": "allow", "ipv6CidrBlock": "::/0",
                                 "fromPort": 443, "toPort": 443}]},
     _set(("ingress", 0, "protocol"), "-1"),
     ["[FSBP EC2.21] ingress[0] allows ::/0 to reach 22 (SSH), 3389 (RDP): allow only your own CIDRs, or keep "
      "remote administration off the internet and reach nodes through SSM Session Manager"]),
    ("launch template with a public IP", network.subnet_no_public_ip, "aws:ec2/launchTemplate:LaunchTemplate",
     {"networkInterfaces": [{"associatePublicIpAddress": "false", "deviceIndex": 0}]},
     _set(("networkInterfaces", 0, "associatePublicIpAddress"), "true"),
     ["[FSBP EC2.25] networkInterfaces[0].associatePublicIpAddress is true: every instance launched from this "
      "template gets a public IP; set it false and reach the internet through a NAT gateway"]),
    ("instance with a public IP", network.subnet_no_public_ip, "aws:ec2/instance:Instance",
     {"ami": "ami-1", "associatePublicIpAddress": False}, _set(("associatePublicIpAddress",), True),
     ["[FSBP EC2.9] associatePublicIpAddress is true: the instance gets a public IP; set it false, start it in a "
      "private subnet and reach the internet through a NAT gateway"]),
    ("EBS StorageClass unencrypted", encryption.ebs_volumes_encrypted, "kubernetes:storage.k8s.io/v1:StorageClass",
     {"metadata": {"name": "gp3"}, "provisioner": "ebs.csi.aws.com", "parameters": {"type": "gp3", "encrypted": "true"}},
     _set(("parameters", "encrypted"), _DELETE),
     ['[FSBP EC2.3] parameters.encrypted is unset (unset is unencrypted, unless the account encrypts by default): '
      'set it "true", so the volume and its snapshots are encrypted at rest']),
    ("EBS volume unencrypted", encryption.ebs_volumes_encrypted, "aws:ebs/volume:Volume",
     {"availabilityZone": "eu-west-1a", "size": 10, "encrypted": True}, _set(("encrypted",), False),
     ["[FSBP EC2.3] encrypted is false: set it true, so the volume and its snapshots are encrypted at rest"]),
    ("launch template volume unencrypted", encryption.ebs_volumes_encrypted, "aws:ec2/launchTemplate:LaunchTemplate",
     {"blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"volumeSize": 20, "encrypted": "true"}}]},
     _set(("blockDeviceMappings", 0, "ebs", "encrypted"), "false"),
     ["[FSBP EC2.3] blockDeviceMappings[0].ebs.encrypted is 'false': set it \"true\", so the volume and its "
      "snapshots are encrypted at rest"]),
    ("public IPs on launch", network.subnet_no_public_ip, "aws:ec2/subnet:Subnet", {"mapPublicIpOnLaunch": False},
     _set(("mapPublicIpOnLaunch",), True),
     ["[FSBP EC2.15] mapPublicIpOnLaunch is true: every instance started in this subnet gets a public IP; set it "
      "false (NAT gateways and load balancers get their addresses without it)"]),
    ("IMDSv1 allowed", network.instance_metadata_v2, "aws:ec2/launchTemplate:LaunchTemplate",
     {"metadataOptions": {"httpTokens": "required"}}, _set(("metadataOptions", "httpTokens"), "optional"),
     ["[FSBP EC2.170] metadataOptions.httpTokens is 'optional': set it to 'required' (IMDSv2 only), so a request "
      "forgery in a pod cannot read the node's credentials"]),
    ("instance without IMDSv2", network.instance_metadata_v2, "aws:ec2/instance:Instance",
     {"ami": "ami-1", "metadataOptions": {"httpTokens": "required", "httpEndpoint": "enabled"}},
     _set(("metadataOptions", "httpTokens"), _DELETE),
     ["[FSBP EC2.8] metadataOptions.httpTokens is unset: set it to 'required' (IMDSv2 only), so a request forgery in a "
      "pod cannot read the node's credentials"]),
    ("bucket ownership lets ACLs in", security.s3_bucket_acls_disabled,
     "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
     {"bucket": "b", "rule": {"objectOwnership": "BucketOwnerEnforced"}},
     _set(("rule", "objectOwnership"), "ObjectWriter"),
     ["[FSBP S3.12] rule.objectOwnership is 'ObjectWriter': ACLs then grant access beside the bucket policy; set it "
      "BucketOwnerEnforced (ACLs off, the bucket owner owns every object)"]),
    ("bucket ACL grants public read", security.s3_bucket_acls_disabled, "aws:s3/bucketAclV2:BucketAclV2",
     {"bucket": "b", "acl": "private"}, _set(("acl",), "public-read"),
     ["[FSBP S3.12] acl is 'public-read': access goes through an ACL; remove it and grant access in the bucket policy "
      "or IAM, with the bucket's objectOwnership BucketOwnerEnforced"]),
    ("bucket ACL grants", security.s3_bucket_acls_disabled, "aws:s3/bucketAclV2:BucketAclV2", {"bucket": "b"},
     _set(("accessControlPolicy",), {"grants": [{"permission": "READ", "grantee": {"type": "Group",
                                                  "uri": "http://acs.amazonaws.com/groups/global/AllUsers"}}]}),
     ["[FSBP S3.12] grants are set: access goes through an ACL; remove it and grant access in the bucket policy or "
      "IAM, with the bucket's objectOwnership BucketOwnerEnforced"]),
    ("trust: anyone", principals.iam_principals_scoped, "aws:iam/role:Role",
     {"assumeRolePolicy": json.dumps({"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                      "Principal": {"Service": "ec2.amazonaws.com"}}]})},
     lambda d: d.update(assumeRolePolicy=d["assumeRolePolicy"].replace('{"Service": "ec2.amazonaws.com"}',
                                                                        '{"AWS": "arn:aws:iam::*:root"}')),
     ["[RAC IAM.Trust] assumeRolePolicy: statement 0 allows principal arn:aws:iam::*:root, anyone in any AWS account, "
      "with no condition narrowing it: name the accounts or roles, or add a Condition on aws:PrincipalOrgID (or "
      "another of scopingConditionKeys)"]),
    ("trust: web identity without sub", principals.iam_principals_scoped, "aws:iam/role:Role",
     {"assumeRolePolicy": IRSA},
     lambda d: d["assumeRolePolicy"]["Statement"][0]["Condition"].pop("StringLike"),
     ["[RAC IAM.WebIdentity, CIS EKS 5.2.1] assumeRolePolicy: statement 0 trusts a web identity but has no "
      "`<issuer>:sub` condition, so every identity of the issuer (every service account of the cluster, every "
      "repository) can assume the role: name the subjects, e.g. system:serviceaccount:<namespace>:<name>"]),
    ("trust: web identity without aud", principals.iam_principals_scoped, "aws:iam/role:Role",
     {"assumeRolePolicy": IRSA},
     lambda d: d["assumeRolePolicy"]["Statement"][0]["Condition"].pop("StringEquals"),
     ["[RAC IAM.WebIdentity, CIS EKS 5.2.1] assumeRolePolicy: statement 0 trusts a web identity but has no "
      "`<issuer>:aud` condition (StringEquals sts.amazonaws.com), so tokens minted for any audience are accepted"]),
    ("trust: sub matches every service account", principals.iam_principals_scoped, "aws:iam/role:Role",
     {"assumeRolePolicy": IRSA},
     lambda d: d["assumeRolePolicy"]["Statement"][0]["Condition"]["StringLike"].update(
         {"oidc.eks.eu-west-1.amazonaws.com/id/X:sub": "system:serviceaccount:*"}),
     ["[RAC IAM.WebIdentity, CIS EKS 5.2.1] assumeRolePolicy: statement 0 trusts a web identity but has a `sub` "
      "condition that matches every subject (system:serviceaccount:*): name the service accounts (or repositories) "
      "that need the role"]),
    ("trust: GitHub OIDC sub names every repository", principals.iam_principals_scoped, "aws:iam/role:Role",
     {"assumeRolePolicy": GITHUB_OIDC},
     lambda d: d["assumeRolePolicy"]["Statement"][0]["Condition"]["StringLike"].update(
         {"token.actions.githubusercontent.com:sub": "repo:*"}),
     ["[RAC IAM.WebIdentity, CIS EKS 5.2.1] assumeRolePolicy: statement 0 trusts a web identity but has a `sub` "
      "condition that matches every subject (repo:*): name the service accounts (or repositories) that need the role"]),
    ("trust: GitHub OIDC sub with every owner", principals.iam_principals_scoped, "aws:iam/role:Role",
     {"assumeRolePolicy": GITHUB_OIDC},
     lambda d: d["assumeRolePolicy"]["Statement"][0]["Condition"]["StringLike"].update(
         {"token.actions.githubusercontent.com:sub": "repo:*/*:*"}),
     ["[RAC IAM.WebIdentity, CIS EKS 5.2.1] assumeRolePolicy: statement 0 trusts a web identity but has a `sub` "
      "condition that matches every subject (repo:*/*:*): name the service accounts (or repositories) that need the "
      "role"]),
    ("trust: aud matches every audience", principals.iam_principals_scoped, "aws:iam/role:Role",
     {"assumeRolePolicy": IRSA},
     lambda d: d["assumeRolePolicy"]["Statement"][0]["Condition"].update(
         {"StringEquals": {}, "StringLike": {"oidc.eks.eu-west-1.amazonaws.com/id/X:aud": "*",
                                             "oidc.eks.eu-west-1.amazonaws.com/id/X:sub": "system:serviceaccount:a:b"}}),
     ["[RAC IAM.WebIdentity, CIS EKS 5.2.1] assumeRolePolicy: statement 0 trusts a web identity but has an `aud` "
      "condition that matches every audience (*), so tokens minted for any audience are accepted: set it to "
      "sts.amazonaws.com"]),
    ("trust: organisation condition matches every organisation", principals.iam_principals_scoped,
     "aws:iam/role:Role", {"assumeRolePolicy": ORG_TRUST},
     lambda d: d["assumeRolePolicy"]["Statement"][0].update(
         Condition={"StringLike": {"aws:PrincipalOrgID": "*"}}),
     ["[RAC IAM.Trust] assumeRolePolicy: statement 0 allows principal *, anyone in any AWS account, and its condition "
      "matches every caller (aws:PrincipalOrgID *): set the condition to your organisation id, accounts or role ARNs, "
      "without wildcards"]),
    ("trust: organisation condition that only excludes", principals.iam_principals_scoped,
     "aws:iam/role:Role", {"assumeRolePolicy": ORG_TRUST},
     lambda d: d["assumeRolePolicy"]["Statement"][0].update(
         Condition={"StringNotEquals": {"aws:PrincipalOrgID": "o-abc123"}}),
     ["[RAC IAM.Trust] assumeRolePolicy: statement 0 allows principal *, anyone in any AWS account, with no condition "
      "narrowing it: name the accounts or roles, or add a Condition on aws:PrincipalOrgID (or another of "
      "scopingConditionKeys)"]),
    ("bucket policy: public read with ?", principals.iam_principals_scoped, "aws:s3/bucketPolicy:BucketPolicy",
     {"policy": {"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Principal": {"AWS": "arn:aws:iam::1:root"},
                                "Resource": "arn:aws:s3:::b/*"}]}},
     _set(("policy", "Statement", 0, "Principal"), {"AWS": "?*"}),
     ["[FSBP S3.2, FSBP S3.3] policy: statement 0 allows principal ?*, anyone in any AWS account, with no condition "
      "narrowing it: name the accounts or roles, or add a Condition on aws:PrincipalOrgID (or another of "
      "scopingConditionKeys)"]),
    ("privilege escalation unset", pod_security.pod_security_restricted, DEPLOYMENT, GOOD_DEPLOYMENT,
     _set(("spec", "template", "spec", "containers", 0, "securityContext", "allowPrivilegeEscalation"), _DELETE),
     [f"[CIS EKS 4.2.5] {C}.allowPrivilegeEscalation is not false (unset allows it): set it false"]),
    ("NET_RAW added", pod_security.pod_security_restricted, DEPLOYMENT, GOOD_DEPLOYMENT,
     _set(("spec", "template", "spec", "containers", 0, "securityContext", "capabilities", "add"), ["NET_RAW"]),
     [f"[CIS EKS 4.2.7] {C}.capabilities.add adds NET_RAW: add none (NET_BIND_SERVICE is the only one allowed)"]),
    ("capabilities kept", pod_security.pod_security_restricted, DEPLOYMENT, GOOD_DEPLOYMENT,
     _set(("spec", "template", "spec", "containers", 0, "securityContext", "capabilities"), _DELETE),
     [f'[CIS EKS 4.2.9] {C}.capabilities.drop does not drop ALL: set it to ["ALL"]']),
    ("no seccomp", pod_security.pod_security_restricted, DEPLOYMENT, GOOD_DEPLOYMENT,
     _set(("spec", "template", "spec", "securityContext"), {}),
     [f"[PSS restricted] {C}.seccompProfile.type is not RuntimeDefault or Localhost (on the container or the pod): "
      "set the pod's securityContext.seccompProfile.type RuntimeDefault"]),
    ("hostNetwork", pod_security.pod_security_restricted, DEPLOYMENT, GOOD_DEPLOYMENT,
     _set(("spec", "template", "spec", "hostNetwork"), True),
     ["[CIS EKS 4.2.4] spec.template.spec.hostNetwork is true: remove it"]),
    ("hostPath", pod_security.pod_security_restricted, DEPLOYMENT, GOOD_DEPLOYMENT,
     _set(("spec", "template", "spec", "volumes"), [{"name": "logs", "hostPath": {"path": "/var/log"}}]),
     ["[PSS baseline] spec.template.spec.volumes[0].hostPath mounts a directory of the node: use a "
      "PersistentVolumeClaim, ConfigMap or emptyDir"]),
    ("privileged", pod_security.pod_security_restricted, DEPLOYMENT, GOOD_DEPLOYMENT,
     _set((*SC, "privileged"), True), [f"[CIS EKS 4.2.1] {C}.privileged is true: remove it"]),
    ("hostPID", pod_security.pod_security_restricted, DEPLOYMENT, GOOD_DEPLOYMENT,
     _set(("spec", "template", "spec", "hostPID"), True),
     ["[CIS EKS 4.2.2] spec.template.spec.hostPID is true: remove it"]),
    ("hostIPC", pod_security.pod_security_restricted, DEPLOYMENT, GOOD_DEPLOYMENT,
     _set(("spec", "template", "spec", "hostIPC"), True),
     ["[CIS EKS 4.2.3] spec.template.spec.hostIPC is true: remove it"]),
    ("SYS_ADMIN added", pod_security.pod_security_restricted, DEPLOYMENT, GOOD_DEPLOYMENT,
     _set((*SC, "capabilities", "add"), ["SYS_ADMIN"]),
     [f"[CIS EKS 4.2.8] {C}.capabilities.add adds SYS_ADMIN: add none (NET_BIND_SERVICE is the only one allowed)"]),
    ("hostPort", pod_security.pod_security_restricted, DEPLOYMENT, GOOD_DEPLOYMENT,
     _set(("spec", "template", "spec", "containers", 0, "ports"), [{"containerPort": 8080, "hostPort": 8080}]),
     ["[PSS baseline] spec.template.spec.containers[0].ports[0].hostPort binds a port on the node: remove it and "
      "reach the pod through a Service"]),
    ("container seccomp Unconfined", pod_security.pod_security_restricted, DEPLOYMENT, GOOD_DEPLOYMENT,
     _set((*SC, "seccompProfile"), {"type": "Unconfined"}),
     [f"[PSS restricted] {C}.seccompProfile.type is not RuntimeDefault or Localhost (on the container or the pod): "
      "set the pod's securityContext.seccompProfile.type RuntimeDefault"]),
    ("pod seccomp Unconfined under containers' own", pod_security.pod_security_restricted, DEPLOYMENT,
     broken(GOOD_DEPLOYMENT, _set((*SC, "seccompProfile"), {"type": "RuntimeDefault"})),
     _set((*POD_SC, "seccompProfile", "type"), "Unconfined"),
     ["[PSS restricted] spec.template.spec.securityContext.seccompProfile.type is 'Unconfined': set it RuntimeDefault"]),
    ("procMount Unmasked", pod_security.pod_security_restricted, DEPLOYMENT, GOOD_DEPLOYMENT,
     _set((*SC, "procMount"), "Unmasked"),
     [f"[PSS baseline] {C}.procMount is 'Unmasked': remove it (Default masks the node's /proc paths)"]),
    ("unsafe sysctl", pod_security.pod_security_restricted, DEPLOYMENT,
     broken(GOOD_DEPLOYMENT, _set((*POD_SC, "sysctls"), [{"name": "net.ipv4.tcp_syncookies", "value": "1"}])),
     _set((*POD_SC, "sysctls", 0, "name"), "kernel.msgmax"),
     ["[PSS baseline] spec.template.spec.securityContext.sysctls[0].name is 'kernel.msgmax', which is not namespaced "
      "to the pod: remove it (the safe ones are kernel.shm_rmid_forced and net.ipv4 port, ping and TCP keepalive "
      "settings)"]),
    ("SELinux type", pod_security.pod_security_restricted, DEPLOYMENT,
     broken(GOOD_DEPLOYMENT, _set((*POD_SC, "seLinuxOptions"), {"type": "container_t", "level": "s0:c1,c2"})),
     _set((*POD_SC, "seLinuxOptions", "type"), "spc_t"),
     ["[PSS baseline] spec.template.spec.securityContext.seLinuxOptions.type is 'spc_t': leave it unset or use "
      "container_t (container_init_t, container_kvm_t and container_engine_t are allowed too)"]),
    ("SELinux user", pod_security.pod_security_restricted, DEPLOYMENT, GOOD_DEPLOYMENT,
     _set((*SC, "seLinuxOptions"), {"user": "system_u"}),
     [f"[PSS baseline] {C}.seLinuxOptions.user is 'system_u': remove it (only the SELinux type and level may be set)"]),
    ("SELinux role", pod_security.pod_security_restricted, DEPLOYMENT, GOOD_DEPLOYMENT,
     _set((*SC, "seLinuxOptions"), {"role": "sysadm_r"}),
     [f"[PSS baseline] {C}.seLinuxOptions.role is 'sysadm_r': remove it (only the SELinux type and level may be set)"]),
    ("AppArmor unconfined", pod_security.pod_security_restricted, DEPLOYMENT,
     broken(GOOD_DEPLOYMENT, _set((*POD_SC, "appArmorProfile"), {"type": "RuntimeDefault"})),
     _set((*POD_SC, "appArmorProfile", "type"), "Unconfined"),
     ["[PSS baseline] spec.template.spec.securityContext.appArmorProfile.type is 'Unconfined': set it RuntimeDefault "
      "(or Localhost with a profile on the nodes)"]),
    ("AppArmor annotation unconfined", pod_security.pod_security_restricted, DEPLOYMENT,
     broken(GOOD_DEPLOYMENT, _set(("spec", "template", "metadata"),
                                  {"annotations": {f"{APPARMOR}/app": "localhost/app"}})),
     _set(("spec", "template", "metadata", "annotations", f"{APPARMOR}/app"), "unconfined"),
     [f'[PSS baseline] spec.template.metadata.annotations["{APPARMOR}/app"] is \'unconfined\': set it runtime/default '
      "(or localhost/<profile>)"]),
    ("HostProcess", pod_security.pod_security_restricted, DEPLOYMENT, GOOD_DEPLOYMENT,
     _set((*SC, "windowsOptions"), {"hostProcess": True}),
     [f"[PSS baseline] {C}.windowsOptions.hostProcess is true: remove it (a HostProcess container runs on the "
      "Windows node as the host)"]),
    ("volume type outside the restricted list", pod_security.pod_security_restricted, DEPLOYMENT,
     broken(GOOD_DEPLOYMENT, _set(("spec", "template", "spec", "volumes"), [
         {"name": "data", "persistentVolumeClaim": {"claimName": "data"}}, {"name": "tmp", "emptyDir": {}},
         {"name": "cfg", "projected": {"sources": [{"configMap": {"name": "c"}}]}}])),
     _set(("spec", "template", "spec", "volumes", 0), {"name": "data", "nfs": {"server": "nfs", "path": "/x"}}),
     ["[PSS restricted] spec.template.spec.volumes[0].nfs is not a volume type the restricted standard allows: use a "
      "persistentVolumeClaim (its StorageClass names the storage), or a configMap, secret, projected, downwardAPI, "
      "emptyDir, ephemeral or csi volume"]),
    ("CronJob privileged", pod_security.pod_security_restricted, "kubernetes:batch/v1:CronJob",
     {"metadata": {"name": "job"}, "spec": {"jobTemplate": {"spec": {"template": GOOD_DEPLOYMENT["spec"]["template"]}}}},
     _set(("spec", "jobTemplate", "spec", "template", "spec", "containers", 0, "securityContext", "privileged"), True),
     ["[CIS EKS 4.2.1] spec.jobTemplate.spec.template.spec.containers[0].securityContext.privileged is true: remove "
      "it"]),
    ("namespace without a level", pod_security.namespace_pod_security, NAMESPACE,
     {"metadata": {"name": "apps", "labels": {ENFORCE: "restricted"}}}, _set(("metadata", "labels"), {}),
     [f'[CIS EKS 4.2.1, PSS restricted] metadata.labels["{ENFORCE}"] is unset, so the cluster\'s default (privileged) '
      "admits any pod: set it to restricted"]),
    ("namespace weakened", pod_security.namespace_pod_security, NAMESPACE,
     {"metadata": {"name": "chaos-mesh", "labels": {ENFORCE: "privileged"}}}, _set(("metadata", "name"), "apps"),
     [f"[CIS EKS 4.2.1, PSS restricted] metadata.labels[\"{ENFORCE}\"] is 'privileged' in namespace apps: set it to "
      'restricted, or, if its pods need more, add {"namespace": "apps", "level": "privileged", "reason": "..."} to '
      "allowedLevels"]),
    ("Helm release creating its namespace", pod_security.namespace_pod_security, "kubernetes:helm.sh/v3:Release",
     {"chart": "podinfo", "version": "6.7.0", "namespace": "shop", "createNamespace": False},
     _set(("createNamespace",), True),
     [f"[CIS EKS 4.2.1, PSS restricted] createNamespace is true: Helm creates namespace shop without a {ENFORCE} "
      f"label, so the cluster's default (privileged) admits any pod; set createNamespace false and create the "
      f"namespace as a Namespace object labelled {ENFORCE}: restricted"]),
    ("Helm release creating an allow-listed namespace", pod_security.namespace_pod_security,
     "kubernetes:helm.sh/v3:Release", {"chart": "chaos-mesh", "version": "2.7.2", "namespace": "chaos-mesh"},
     _set(("createNamespace",), True),
     [f"[CIS EKS 4.2.1, PSS restricted] createNamespace is true: Helm creates namespace chaos-mesh without a "
      f"{ENFORCE} label, so the cluster's default (privileged) admits any pod; set createNamespace false and create "
      f"the namespace as a Namespace object labelled {ENFORCE}: privileged"]),
    ("LoadBalancer without TLS", pod_security.load_balancer_tls, "kubernetes:core/v1:Service",
     {"metadata": {"name": "shop", "annotations": {"service.beta.kubernetes.io/aws-load-balancer-ssl-cert": "arn:c"}},
      "spec": {"type": "LoadBalancer"}}, _set(("metadata", "annotations"), {}),
     ["[CIS EKS 5.4.5] metadata.annotations has no service.beta.kubernetes.io/aws-load-balancer-ssl-cert: an "
      "internet-facing load balancer serves plain TCP; set it to an ACM certificate ARN, or make the load balancer "
      "internal (service.beta.kubernetes.io/aws-load-balancer-scheme: internal)"]),
    ("Ingress without TLS", pod_security.load_balancer_tls, "kubernetes:networking.k8s.io/v1:Ingress",
     {"metadata": {"name": "shop"}, "spec": {"tls": [{"hosts": ["shop.example.com"], "secretName": "tls"}]}},
     _set(("spec", "tls"), []),
     ["[CIS EKS 5.4.5] spec.tls is empty and metadata.annotations has no alb.ingress.kubernetes.io/certificate-arn: "
      "add a tls block (or the ALB's certificate) so the Ingress serves HTTPS"]),
    ("Gateway with only a plain-HTTP listener", pod_security.load_balancer_tls,
     "kubernetes:gateway.networking.k8s.io/v1:Gateway",
     {"metadata": {"name": "shop"}, "spec": {"gatewayClassName": "alb", "listeners": [
         {"name": "http", "protocol": "HTTP", "port": 80},
         {"name": "https", "protocol": "HTTPS", "port": 443, "tls": {"certificateRefs": [{"name": "shop-tls"}]}}]}},
     lambda d: d["spec"]["listeners"].pop(),
     ["[CIS EKS 5.4.5] spec.listeners[0].protocol is HTTP and no listener serves HTTPS or TLS: add an HTTPS listener "
      "with certificateRefs (and redirect HTTP to it)"]),
    ("Grafana anonymous access", grafana.grafana_hardened, "reliability:helm:Chart",
     {"chart": "grafana", "values": GRAFANA_VALUES},
     _set(("values", "grafana.ini", "auth.anonymous", "enabled"), True),
     ['[Grafana auth.anonymous] values["grafana.ini"]["auth.anonymous"].enabled is true: it lets anyone who reaches '
      "Grafana in without logging in: set it false"]),
    ("Grafana sign-up through env", grafana.grafana_hardened, "reliability:helm:Chart",
     {"chart": "grafana", "values": GRAFANA_VALUES}, _set(("values", "env"), {"GF_USERS_ALLOW_SIGN_UP": "true"}),
     ["[Grafana users.allow_sign_up] values.env.GF_USERS_ALLOW_SIGN_UP is true: it lets anyone who reaches Grafana "
      "create an account: set it false and invite users or use SSO"]),
    ("Grafana embedding", grafana.grafana_hardened, "reliability:helm:Chart",
     {"chart": "grafana", "values": GRAFANA_VALUES},
     _set(("values", "grafana.ini", "security", "allow_embedding"), True),
     ['[Grafana security.allow_embedding] values["grafana.ini"].security.allow_embedding is true: it lets any site '
      "frame Grafana (clickjacking): set it false"]),
    ("Grafana insecure cookie in prod", grafana.grafana_hardened, "reliability:helm:Chart",
     {"chart": "grafana", "values": GRAFANA_VALUES},
     _set(("values", "grafana.ini", "security", "cookie_secure"), _DELETE),
     ['[Grafana security.cookie_secure] values["grafana.ini"].security.cookie_secure is unset in prod: the session '
      "cookie may travel over plain http; set it true"]),
    ("Grafana SameSite none", grafana.grafana_hardened, "reliability:helm:Chart",
     {"chart": "grafana", "values": GRAFANA_VALUES},
     _set(("values", "grafana.ini", "security", "cookie_samesite"), "none"),
     ['[Grafana security.cookie_samesite] values["grafana.ini"].security.cookie_samesite is \'none\': other sites\' '
      "requests carry the session cookie; set it to lax or strict"]),
    ("Grafana default admin password", grafana.grafana_hardened, "reliability:helm:Chart",
     {"chart": "grafana", "values": GRAFANA_VALUES}, _set(("values", "adminPassword"), "admin"),
     ["[Grafana admin credentials] values.adminPassword is the well-known default 'admin': keep the admin password "
      "in a Secret and point admin.existingSecret at it"]),
    ("kube-prometheus-stack Grafana left on", grafana.grafana_hardened, "reliability:helm:Chart",
     {"chart": "kube-prometheus-stack", "values": {"grafana": {"enabled": False}}},
     _set(("values", "grafana"), {"grafana.ini": GRAFANA_VALUES["grafana.ini"]}),
     ["[Grafana admin credentials] values.grafana.admin.existingSecret is unset, so kube-prometheus-stack logs admin "
      "in with its default password 'prom-operator': point it at a Secret holding admin-user and admin-password"]),
]


@pytest.mark.parametrize(("case", "policy", "typ", "good", "change", "messages"), CASES, ids=[c[0] for c in CASES])
def test_good_passes_and_one_field_broken_fails(case: str, policy: Any, typ: str, good: dict[str, Any], change: Any,
                                                messages: list[str]) -> None:
    assert check_resource(policy, typ, good) == []
    assert check_resource(policy, typ, broken(good, change)) == messages


def test_levels_that_depend_on_the_environment() -> None:
    values = broken({"chart": "grafana", "values": GRAFANA_VALUES},
                    _set(("values", "grafana.ini", "security", "cookie_secure"), False))
    assert check_resource(grafana.grafana_hardened, "reliability:helm:Chart", values, stack="local") == []
    assert len(check_resource(grafana.grafana_hardened, "reliability:helm:Chart", values, stack="dev")) == 1


def test_a_public_endpoint_is_advised_against() -> None:
    assert check_resource(eks.eks_endpoint_private, CLUSTER, GOOD_CLUSTER) == [
        "[CIS EKS 5.4.2, FSBP EKS.1] vpcConfig.endpointPublicAccess is not false: the API endpoint can be reached "
        "from the internet (by the listed CIDRs); reach it through a VPN or bastion in the VPC and set "
        "vpcConfig.endpointPublicAccess false"]
    private = broken(GOOD_CLUSTER, _set(("vpcConfig", "endpointPublicAccess"), False))
    assert check_resource(eks.eks_endpoint_private, CLUSTER, private) == []
    assert check_resource(eks.eks_endpoint_restricted, CLUSTER, private) == []


def test_chart_workloads_are_left_to_their_namespace() -> None:
    chart_urn = ("urn:pulumi:prod::reliability::reliability:index:Platform$kubernetes:helm.sh/v4:Chart$"
                 f"{DEPLOYMENT}::node-exporter")
    host = broken(GOOD_DEPLOYMENT, _set(("spec", "template", "spec", "hostNetwork"), True))
    assert check_resource(pod_security.pod_security_restricted, DEPLOYMENT, host, resource_urn=chart_urn) == []


BUCKET = "aws:s3/bucket:Bucket"
TLS_POLICY = {"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*",
                             "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}


def test_buckets_refuse_plain_http() -> None:
    bucket = resource(BUCKET, {"bucket": "b"}, "b")
    good = resource("aws:s3/bucketPolicy:BucketPolicy", {"bucket": "b", "policy": json.dumps(TLS_POLICY)}, "b",
                    dependencies=[bucket])
    assert check_stack(encryption.s3_bucket_tls_only, [bucket, good]) == []
    allow_only = broken(TLS_POLICY, _set(("Statement", 0, "Effect"), "Allow"))
    bad = resource("aws:s3/bucketPolicy:BucketPolicy", {"bucket": "b", "policy": allow_only}, "b", dependencies=[bucket])
    assert check_stack(encryption.s3_bucket_tls_only, [bucket, bad]) == [
        ("[FSBP S3.5] its BucketPolicy has no Deny on aws:SecureTransport false: add a BucketPolicy statement denying "
         's3:* when the Condition Bool aws:SecureTransport is "false"', "b")]
    assert check_stack(encryption.s3_bucket_tls_only, [bucket]) == [
        ("[FSBP S3.5] no BucketPolicy: add a BucketPolicy statement denying s3:* when the Condition Bool "
         'aws:SecureTransport is "false"', "b")]


def test_every_vpc_has_a_flow_log() -> None:
    vpc = resource("aws:ec2/vpc:Vpc", {"cidrBlock": "10.0.0.0/16"}, "vpc")
    log = resource("aws:ec2/flowLog:FlowLog", {"trafficType": "ALL"}, "vpc", dependencies=[vpc])
    assert check_stack(network.vpc_flow_logs, [vpc, log]) == []
    assert check_stack(network.vpc_flow_logs, [vpc]) == [
        ("[FSBP EC2.6] no FlowLog has this VPC as vpcId: add an aws.ec2.FlowLog (trafficType REJECT at least) to keep "
         "a record of the traffic the VPC refused", "vpc")]


def _statement(**fields: Any) -> dict[str, Any]:
    return {"Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*", **fields}]}


def test_who_a_resource_policy_lets_in() -> None:
    policy, key = principals.iam_principals_scoped, "aws:kms/key:Key"
    anyone = _statement(Principal={"AWS": "*"})
    assert check_resource(policy, key, {"policy": json.dumps(anyone)}) == [
        "[FSBP KMS.5] policy: statement 0 allows principal *, anyone in any AWS account, with no condition narrowing "
        "it: name the accounts or roles, or add a Condition on aws:PrincipalOrgID (or another of scopingConditionKeys)"]
    # A wildcard narrowed to the organisation is fine; a Deny names no one it lets in.
    org = _statement(Principal="*", Condition={"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}})
    assert check_resource(policy, key, {"policy": json.dumps(org)}) == []
    # A source ARN with a named account narrows to it, whatever its region or resource; one in any account does not.
    topic = _statement(Principal="*", Condition={"ArnLike": {"aws:SourceArn": "arn:aws:sns:*:123456789012:*"}})
    assert check_resource(policy, key, {"policy": json.dumps(topic)}) == []
    anywhere = _statement(Principal="*", Condition={"ArnLike": {"aws:SourceArn": "arn:aws:sns:*:*:alerts"}})
    assert check_resource(policy, key, {"policy": json.dumps(anywhere)}) == [
        "[FSBP KMS.5] policy: statement 0 allows principal *, anyone in any AWS account, and its condition matches "
        "every caller (aws:SourceArn arn:aws:sns:*:*:alerts): set the condition to your organisation id, accounts or "
        "role ARNs, without wildcards"]
    assert check_resource(policy, key, {"policy": json.dumps(_statement(Principal="*", Effect="Deny"))}) == []
    everyone_but = _statement(NotPrincipal={"AWS": "arn:aws:iam::1:root"})
    assert check_resource(policy, key, {"policy": json.dumps(everyone_but)}) == [
        "[FSBP KMS.5] policy: statement 0 allows everyone but its NotPrincipal list: name the principals in Principal "
        "instead"]
    # Unknown during preview, or a secret: nothing to judge.
    assert check_resource(policy, "aws:iam/role:Role", {"assumeRolePolicy": "[unknown]"}) == []
    assert check_resource(policy, "aws:iam/role:Role", {"assumeRolePolicy": "{not json"}) == [
        "[RAC IAM.Trust] assumeRolePolicy is not a JSON policy document: write the trust policy as JSON"]
