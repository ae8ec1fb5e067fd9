"""The Kubernetes cluster and the one Kubernetes provider every other resource uses.

`LocalCluster` (environment local) adopts the current kubeconfig context (kind,
k3d, minikube, Docker Desktop) and creates nothing in any cloud. `EksCluster`
(dev, staging, prod) builds a VPC, an EKS cluster with managed node groups, the
EBS CSI driver so PVCs bind, an OIDC provider for IRSA and admin access entries.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from ipaddress import IPv4Network

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from reliability.platform.config import OFFLINE, StackConfig

from . import kube

EKS_ADMIN_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
NODE_POLICIES = (
    "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
    "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
    "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
)
EBS_CSI_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"
EBS_CSI_SERVICE_ACCOUNT = ("kube-system", "ebs-csi-controller-sa")


# ------------------------------------------------------------------ pure helpers


def subnet_cidrs(vpc_cidr: str, zones: int) -> tuple[list[str], list[str]]:
    """(private, public) CIDRs, one of each per zone: the VPC cut into 16 equal blocks."""
    blocks = [str(b) for b in IPv4Network(vpc_cidr).subnets(prefixlen_diff=4)]
    return blocks[:zones], blocks[8 : 8 + zones]


def node_group_prefix(cluster_name: str, group: str) -> str:
    """EKS names a group prefix + 26 characters and allows 63 in all: the prefix keeps 37."""
    return f"{cluster_name}-{group}-"[:37]


def control_plane_log_group(cluster_name: str) -> str:
    """The log group EKS sends a cluster's control plane logs to (its name is fixed by EKS)."""
    return f"/aws/eks/{cluster_name}/cluster"


def caller_access_warning(caller_arn: str, admin_arns: list[str]) -> str | None:
    """Why the principal running `pulumi up` will not reach the cluster, or None when it is an admin.

    `caller_arn` is what STS GetCallerIdentity says: an IAM user's ARN, the root user's, or, for a
    role, `arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION`, which names the role without its path;
    a role matches an admin ARN of the same account and name whatever its path (SSO roles sit
    under /aws-reserved/sso.amazonaws.com/).
    """
    parts = caller_arn.split(":", 5)
    if len(parts) < 6:
        return None  # not an ARN at all: nothing useful to say
    partition, account, resource = parts[1], parts[4], parts[5]
    admins = set(admin_arns)
    if resource.startswith("assumed-role/"):
        role = resource.split("/")[1]
        if any(a.startswith(f"arn:{partition}:iam::{account}:role/") and a.rsplit("/", 1)[1] == role
               for a in admins):
            return None
        add = f"arn:{partition}:iam::{account}:role/{role} (with the role's path, if it has one)"
    elif caller_arn in admins:
        return None
    else:
        add = caller_arn if resource.startswith("user/") else "the ARN of a role you assume (not the root user)"
    return (
        f"{caller_arn} runs this deployment but is not in reliability:cluster.adminArns: the cluster gives "
        "its creator no access of its own, so once it exists every Kubernetes resource of the stack fails "
        f"with Unauthorized. Add {add} to cluster.adminArns"
    )


def assume_role_policy(service: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": service}}],
        },
        sort_keys=True,
    )


def irsa_trust_policy(provider_arn: str, issuer_url: str, subjects: list[tuple[str, str]]) -> str:
    """Trust policy letting exactly these Kubernetes service accounts assume a role (IRSA)."""
    host = issuer_url.removeprefix("https://")
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Principal": {"Federated": provider_arn},
                    "Condition": {
                        "StringEquals": {f"{host}:aud": "sts.amazonaws.com"},
                        "StringLike": {
                            f"{host}:sub": sorted(f"system:serviceaccount:{ns}:{sa}" for ns, sa in subjects)
                        },
                    },
                }
            ],
        },
        sort_keys=True,
    )


def kubeconfig(cluster: str, endpoint: str, ca_data: str, region: str) -> str:
    """A kubeconfig that gets short-lived tokens from `aws eks get-token` (no static token in state)."""
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "current-context": cluster,
            "clusters": [
                {"name": cluster, "cluster": {"server": endpoint, "certificate-authority-data": ca_data}}
            ],
            "contexts": [{"name": cluster, "context": {"cluster": cluster, "user": cluster}}],
            "users": [
                {
                    "name": cluster,
                    "user": {
                        "exec": {
                            "apiVersion": "client.authentication.k8s.io/v1beta1",
                            "command": "aws",
                            "args": [
                                "eks",
                                "get-token",
                                "--cluster-name",
                                cluster,
                                "--region",
                                region,
                                "--output",
                                "json",
                            ],
                            "interactiveMode": "Never",
                        }
                    },
                }
            ],
        },
        sort_keys=True,
    )


# ------------------------------------------------------------------ components


@dataclass(frozen=True)
class ClusterArgs:
    config: StackConfig


class Local(pulumi.ComponentResource):
    """The current kubeconfig context (or `kubeContext`); no cloud resources."""

    provider: k8s.Provider

    def __init__(self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("reliability:cluster:Local", name, None, opts)
        self.provider = kube.provider(f"{name}-k8s", self, context=args.config.kube_context or None)
        self.register_outputs({"context": args.config.kube_context})


class Eks(pulumi.ComponentResource):
    """VPC + EKS (Secrets encrypted with its own KMS key) + managed node groups + EBS CSI + IRSA OIDC provider +
    admin access entries."""

    provider: k8s.Provider
    cluster_name: pulumi.Output[str]
    oidc_provider_arn: pulumi.Output[str]
    oidc_issuer: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]

    def __init__(self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("reliability:cluster:Eks", name, None, opts)
        cfg = args.config
        spec = cfg.cluster
        cluster_name = cfg.cluster_name
        region = spec.region or ""
        child = pulumi.ResourceOptions(parent=self)
        tags = {"reliability-as-code/stack": cfg.stack}
        # Before anything is created: the deploying principal needs an access entry of its own.
        if not OFFLINE.get():  # the offline render runs as nobody
            aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self)).arn.apply(
                lambda arn: self._warn(caller_access_warning(arn, spec.admin_arns))
            )

        private_subnets, nodes_ready = self._network(name, cfg, tags)

        cluster_role = aws.iam.Role(
            f"{name}-cluster",
            assume_role_policy=assume_role_policy("eks.amazonaws.com"),
            tags=tags,
            opts=child,
        )
        cluster_policy = aws.iam.RolePolicyAttachment(
            f"{name}-cluster",
            role=cluster_role.name,
            policy_arn="arn:aws:iam::aws:policy/AmazonEKSClusterPolicy",
            opts=child,
        )
        # Envelope encryption of Secrets in etcd with a key of our own (CIS EKS 5.3.1, FSBP EKS.3),
        # rotated yearly by KMS (Security Hub KMS.4); a 30-day window to cancel an accidental deletion.
        secrets_key = aws.kms.Key(
            f"{name}-secrets",
            description=f"{cluster_name}: envelope encryption of Kubernetes Secrets",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            tags=tags,
            opts=child,
        )
        # EKS writes its control plane logs to this group and creates it when missing, with no
        # expiry, where `pulumi destroy` never sees it. Ours exists first: it has a retention, goes
        # with dev, and is protected and retained in staging and prod like the buckets (audit logs).
        logs = aws.cloudwatch.LogGroup(
            f"{name}-control-plane",
            name=control_plane_log_group(cluster_name),
            retention_in_days=spec.log_retention_days,
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, protect=cfg.protect_data, retain_on_delete=cfg.protect_data),
        )
        cluster = aws.eks.Cluster(
            f"{name}-eks",
            name=cluster_name,
            version=spec.version,
            role_arn=cluster_role.arn,
            # No implicit entry for whoever runs the first `pulumi up`: every admin, the
            # deploying role included, is an explicit AccessEntry below (docs/platform.md).
            # An implicit creator entry made CreateAccessEntry fail with ResourceInUseException
            # when the creator was also listed in adminArns.
            access_config=aws.eks.ClusterAccessConfigArgs(
                authentication_mode="API", bootstrap_cluster_creator_admin_permissions=False
            ),
            vpc_config=aws.eks.ClusterVpcConfigArgs(
                subnet_ids=[s.id for s in private_subnets],
                endpoint_private_access=True,
                endpoint_public_access=bool(spec.public_access_cidrs),
                public_access_cidrs=spec.public_access_cidrs or None,
            ),
            encryption_config=aws.eks.ClusterEncryptionConfigArgs(
                provider=aws.eks.ClusterEncryptionConfigProviderArgs(key_arn=secrets_key.arn), resources=["secrets"]
            ),
            enabled_cluster_log_types=["api", "audit", "authenticator"],
            tags=tags,
            # EKS cannot change the bootstrap setting of a running cluster (UpdateClusterConfig
            # takes only authenticationMode): clusters created with the creator's entry keep it
            # rather than being replaced.
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[cluster_policy, logs, *nodes_ready],
                ignore_changes=["accessConfig.bootstrapClusterCreatorAdminPermissions"],
            ),
        )

        node_role = aws.iam.Role(
            f"{name}-nodes", assume_role_policy=assume_role_policy("ec2.amazonaws.com"), tags=tags, opts=child
        )
        attachments = [
            aws.iam.RolePolicyAttachment(
                f"{name}-nodes-{arn.rsplit('/', 1)[1]}", role=node_role.name, policy_arn=arn, opts=child
            )
            for arn in NODE_POLICIES
        ]
        groups = []
        for group, size in sorted(spec.node_groups.items()):
            groups.append(
                aws.eks.NodeGroup(
                    f"{name}-{group}",
                    cluster_name=cluster.name,
                    # A prefix, not a name: a change that replaces the group (instanceTypes,
                    # amiType, subnets) creates the new group before the old one is deleted.
                    node_group_name_prefix=node_group_prefix(cluster_name, group),
                    node_role_arn=node_role.arn,
                    subnet_ids=[s.id for s in private_subnets],
                    instance_types=size.instance_types,
                    ami_type="AL2023_x86_64_STANDARD",
                    capacity_type="ON_DEMAND",
                    scaling_config=aws.eks.NodeGroupScalingConfigArgs(
                        min_size=size.min_size, desired_size=size.desired_size, max_size=size.max_size
                    ),
                    update_config=aws.eks.NodeGroupUpdateConfigArgs(max_unavailable=1),
                    labels={"reliability-as-code/node-group": group},
                    tags=tags,
                    # The cluster autoscaler (or a person) owns desiredSize after the first apply.
                    opts=pulumi.ResourceOptions(
                        parent=self,
                        depends_on=attachments,
                        ignore_changes=["scalingConfig.desiredSize"],
                        delete_before_replace=False,
                    ),
                )
            )

        # identities (and its OIDC issuer) exist once the cluster does.
        issuer = cluster.identities.apply(lambda ids: ids[0].oidcs[0].issuer)  # type: ignore[index]
        oidc = aws.iam.OpenIdConnectProvider(
            f"{name}-oidc", url=issuer, client_id_lists=["sts.amazonaws.com"], tags=tags, opts=child
        )
        ebs_role = aws.iam.Role(
            f"{name}-ebs-csi",
            assume_role_policy=pulumi.Output.all(oidc.arn, issuer).apply(
                lambda a: irsa_trust_policy(a[0], a[1], [EBS_CSI_SERVICE_ACCOUNT])
            ),
            tags=tags,
            opts=child,
        )
        ebs_policy = aws.iam.RolePolicyAttachment(
            f"{name}-ebs-csi", role=ebs_role.name, policy_arn=EBS_CSI_POLICY, opts=child
        )
        ebs_addon = aws.eks.Addon(
            f"{name}-ebs-csi",
            cluster_name=cluster.name,
            addon_name="aws-ebs-csi-driver",
            service_account_role_arn=ebs_role.arn,
            resolve_conflicts_on_create="OVERWRITE",
            resolve_conflicts_on_update="OVERWRITE",
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*groups, ebs_policy]),
        )

        admin_ready = []
        for i, arn in enumerate(spec.admin_arns):
            entry = aws.eks.AccessEntry(
                f"{name}-admin-{i}",
                cluster_name=cluster.name,
                principal_arn=arn,
                type="STANDARD",
                tags=tags,
                opts=child,
            )
            admin_ready.append(
                aws.eks.AccessPolicyAssociation(
                    f"{name}-admin-{i}",
                    cluster_name=cluster.name,
                    principal_arn=arn,
                    policy_arn=EKS_ADMIN_POLICY,
                    access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster"),
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[entry]),
                )
            )

        config_text = pulumi.Output.all(
            cluster.name, cluster.endpoint, cluster.certificate_authority.data
        ).apply(lambda a: kubeconfig(a[0], a[1], a[2], region))
        self.provider = kube.provider(
            f"{name}-k8s", self, depends_on=[*groups, ebs_addon, *admin_ready], kubeconfig=config_text
        )
        # gp3: EKS ships only the in-tree gp2 class; PVCs of the charts ask for storage.storageClass.
        k8s.storage.v1.StorageClass(
            f"{name}-gp3",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=cfg.storage.storage_class,
                labels=kube.labels("storage"),
                annotations={"storageclass.kubernetes.io/is-default-class": "true"},
            ),
            provisioner="ebs.csi.aws.com",
            parameters={"type": "gp3", "encrypted": "true"},
            volume_binding_mode="WaitForFirstConsumer",
            allow_volume_expansion=True,
            reclaim_policy="Retain" if cfg.protect_data else "Delete",
            opts=pulumi.ResourceOptions(parent=self, provider=self.provider),
        )
        self.cluster_name = cluster.name
        self.oidc_provider_arn = oidc.arn
        self.oidc_issuer = issuer
        self.kubeconfig = pulumi.Output.secret(config_text)
        self.register_outputs(
            {
                "clusterName": self.cluster_name,
                "oidcProviderArn": self.oidc_provider_arn,
                "kubeconfig": self.kubeconfig,
            }
        )

    def _warn(self, message: str | None) -> None:
        if message:
            pulumi.log.warn(message, self)

    def _network(
        self, name: str, cfg: StackConfig, tags: dict[str, str]
    ) -> tuple[list[aws.ec2.Subnet], list]:
        """Private subnets over N zones behind NAT (one per zone in prod, one shared elsewhere)."""
        spec = cfg.cluster
        child = pulumi.ResourceOptions(parent=self)
        zones = aws.get_availability_zones_output(
            state="available", opts=pulumi.InvokeOutputOptions(parent=self)
        )
        private_cidrs, public_cidrs = subnet_cidrs(spec.vpc_cidr, spec.availability_zones)
        shared = {f"kubernetes.io/cluster/{cfg.cluster_name}": "shared"}
        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=spec.vpc_cidr,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags={**tags, "Name": cfg.cluster_name},
            opts=child,
        )
        igw = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=vpc.id, tags=tags, opts=child)
        public_rt = aws.ec2.RouteTable(
            f"{name}-public",
            vpc_id=vpc.id,
            tags=tags,
            opts=child,
            routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", gateway_id=igw.id)],
        )
        nat_per_zone = cfg.environment == "prod"
        nats: list[aws.ec2.NatGateway] = []
        private: list[aws.ec2.Subnet] = []
        ready: list[pulumi.Resource] = []
        for i in range(spec.availability_zones):
            az = zones.names[i]
            public = aws.ec2.Subnet(
                f"{name}-public-{i}",
                vpc_id=vpc.id,
                availability_zone=az,
                cidr_block=public_cidrs[i],
                map_public_ip_on_launch=False,
                tags={**tags, **shared, "kubernetes.io/role/elb": "1"},
                opts=child,
            )
            ready.append(
                aws.ec2.RouteTableAssociation(
                    f"{name}-public-{i}", subnet_id=public.id, route_table_id=public_rt.id, opts=child
                )
            )
            if nat_per_zone or i == 0:
                eip = aws.ec2.Eip(f"{name}-nat-{i}", domain="vpc", tags=tags, opts=child)
                nats.append(
                    aws.ec2.NatGateway(
                        f"{name}-nat-{i}",
                        allocation_id=eip.id,
                        subnet_id=public.id,
                        tags=tags,
                        opts=pulumi.ResourceOptions(parent=self, depends_on=[igw]),
                    )
                )
            nat = nats[i] if nat_per_zone else nats[0]
            subnet = aws.ec2.Subnet(
                f"{name}-private-{i}",
                vpc_id=vpc.id,
                availability_zone=az,
                cidr_block=private_cidrs[i],
                tags={**tags, **shared, "kubernetes.io/role/internal-elb": "1"},
                opts=child,
            )
            table = aws.ec2.RouteTable(
                f"{name}-private-{i}",
                vpc_id=vpc.id,
                tags=tags,
                opts=child,
                routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", nat_gateway_id=nat.id)],
            )
            ready.append(
                aws.ec2.RouteTableAssociation(
                    f"{name}-private-{i}", subnet_id=subnet.id, route_table_id=table.id, opts=child
                )
            )
            private.append(subnet)
        return private, ready
