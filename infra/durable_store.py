"""Durable tenant data (DESIGN 4): the DynamoDB table, its KMS key and the uploads bucket."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from workers.contract import table as table_contract

_ATTRIBUTE_TYPES = {
    "S": dynamodb.AttributeType.STRING,
    "N": dynamodb.AttributeType.NUMBER,
    "B": dynamodb.AttributeType.BINARY,
}
UPLOAD_EXPIRY_DAYS = 30


class DurableStore(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, retain_data: bool) -> None:
        super().__init__(scope, construct_id)
        removal = RemovalPolicy.RETAIN if retain_data else RemovalPolicy.DESTROY
        # One customer-managed key for the table, the uploads and app-level encryption of
        # webhook secrets (TASKPORT_KMS_KEY_ID), rotated yearly by KMS.
        self.key = kms.Key(
            self,
            "Key",
            description="taskport durable data: DynamoDB table, uploads, webhook secrets",
            enable_key_rotation=True,
            removal_policy=removal,
        )
        key_type = _ATTRIBUTE_TYPES[table_contract.KEY_TYPE]
        self.table = dynamodb.Table(
            self,
            "Table",
            partition_key=dynamodb.Attribute(name=table_contract.PARTITION_KEY, type=key_type),
            sort_key=dynamodb.Attribute(name=table_contract.SORT_KEY, type=key_type),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=self.key,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            deletion_protection=retain_data,
            removal_policy=removal,
        )
        self.access_logs = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(90))],
            removal_policy=removal,
        )
        # CSV uploads for the processing queue; object-created events go to EventBridge.
        self.uploads = s3.Bucket(
            self,
            "Uploads",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="uploads/",
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(UPLOAD_EXPIRY_DAYS))],
            removal_policy=removal,
        )
        # EventBridge notifications as a plain CloudFormation property; the L2 flag would
        # deploy a custom-resource Lambda just to call PutBucketNotificationConfiguration.
        cfn_uploads = self.uploads.node.default_child
        assert isinstance(cfn_uploads, s3.CfnBucket)
        cfn_uploads.notification_configuration = s3.CfnBucket.NotificationConfigurationProperty(
            event_bridge_configuration=s3.CfnBucket.EventBridgeConfigurationProperty(
                event_bridge_enabled=True
            )
        )

    def grant_upload(self, grantee: iam.IGrantable) -> None:
        """Write new upload objects (the key is granted separately)."""
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["s3:PutObject"], resources=[self.uploads.arn_for_objects("*")]
            )
        )

    def grant_read_uploads(self, grantee: iam.IGrantable) -> None:
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject"], resources=[self.uploads.arn_for_objects("*")]
            )
        )
