"""The VPC: public subnets for NAT, private subnets for Lambdas, workers and the cache."""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

VPC_CIDR = "10.0.0.0/16"
# What the Lambdas and workers call inside AWS; with ``interface_endpoints`` on, these
# calls stay off the NAT gateway (each endpoint costs per AZ-hour, see docs/deploy.md).
INTERFACE_SERVICES: tuple[tuple[str, ec2.InterfaceVpcEndpointAwsService], ...] = (
    ("SecretsManager", ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER),
    ("Logs", ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS),
    ("EcrApi", ec2.InterfaceVpcEndpointAwsService.ECR),
    ("EcrDocker", ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER),
    ("Kms", ec2.InterfaceVpcEndpointAwsService.KMS),
    ("Ses", ec2.InterfaceVpcEndpointAwsService.EMAIL),
    ("XRay", ec2.InterfaceVpcEndpointAwsService.XRAY),
)


class Network(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        nat_gateways: int,
        interface_endpoints: bool,
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, construct_id)
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(VPC_CIDR),
            max_azs=2,
            nat_gateways=nat_gateways,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24
                ),
                ec2.SubnetConfiguration(
                    name="private", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=22
                ),
            ],
            # Gateway endpoints are free and keep S3/DynamoDB traffic off the NAT gateway.
            gateway_endpoints={
                "S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3),
                "DynamoDb": ec2.GatewayVpcEndpointOptions(
                    service=ec2.GatewayVpcEndpointAwsService.DYNAMODB
                ),
            },
        )
        flow_log_group = logs.LogGroup(self, "FlowLogs", retention=log_retention)
        flow_log_role = iam.Role(
            self, "FlowLogRole", assumed_by=iam.ServicePrincipal("vpc-flow-logs.amazonaws.com")
        )
        self.vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_log_group, flow_log_role),
            traffic_type=ec2.FlowLogTrafficType.REJECT,
        )
        self.private_subnets = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)
        if interface_endpoints:
            # HTTPS from inside the VPC only (a literal CIDR, so the rule is checkable).
            endpoint_sg = ec2.SecurityGroup(
                self,
                "EndpointSecurityGroup",
                vpc=self.vpc,
                description="taskport VPC interface endpoints",
            )
            endpoint_sg.add_ingress_rule(
                ec2.Peer.ipv4(VPC_CIDR), ec2.Port.tcp(443), "AWS APIs from the VPC"
            )
            for name, service in INTERFACE_SERVICES:
                self.vpc.add_interface_endpoint(
                    name,
                    service=service,
                    subnets=self.private_subnets,
                    open=False,
                    security_groups=[endpoint_sg],
                )
