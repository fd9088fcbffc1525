"""The taskport stack: one construct per concern; the stack wires them and grants access."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from aws_cdk import Aws, CfnOutput, Stack
from aws_cdk import aws_ecs as ecs
from constructs import Construct

from functions.api.routes import ROUTES, Route
from infra import nag
from infra.bundle import ROOT
from infra.cache import Cache
from infra.config import StackConfig
from infra.durable_store import DurableStore
from infra.http_api import HttpApi
from infra.lambdas import Functions
from infra.mail import Mail
from infra.monitoring import Monitoring
from infra.network import Network
from infra.schedules import Schedules
from infra.worker_services import WorkerServices
from workers.catalog import QUEUES, SCHEDULES, QueueSpec, Schedule
from workers.contract import scopes
from workers.contract import settings as env


class TaskportStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StackConfig,
        lambda_code_dir: Path,
        queues: Iterable[QueueSpec] | None = None,
        schedules: Iterable[Schedule] | None = None,
        routes: Iterable[Route] | None = None,
    ) -> None:
        super().__init__(scope, construct_id, stack_name=config.stack_name)
        # The catalog and the route table by default; tests pass fixed ones for the snapshot.
        queue_specs = list(QUEUES.values() if queues is None else queues)
        schedule_specs = (
            [s for s, _ in SCHEDULES.values()] if schedules is None else list(schedules)
        )
        route_specs = list(ROUTES if routes is None else routes)
        retention = config.log_retention

        network = Network(
            self,
            "Network",
            nat_gateways=config.nat_gateways,
            interface_endpoints=config.interface_endpoints,
            log_retention=retention,
        )
        store = DurableStore(self, "Store", retain_data=config.retain_data)
        cache = Cache(
            self,
            "Cache",
            vpc=network.vpc,
            subnets=network.private_subnets,
            node_type=config.cache_node_type,
            port=config.cache_port,
            key=store.key,
            log_retention=retention,
        )
        mail = Mail(
            self, "Mail", domain=config.email_domain, mail_from_subdomain=config.mail_from_subdomain
        )

        shared_env = {
            env.ENV_REDIS_URL: cache.url,
            env.ENV_TABLE: store.table.table_name,
            env.ENV_ENV: "aws",
            env.ENV_RESULT_TTL: str(config.result_ttl_seconds),
            env.ENV_VISIBILITY_TIMEOUT: str(config.visibility_timeout_seconds),
            env.ENV_SCOPE_PREFIX: config.scope_prefix,
            env.ENV_KMS_KEY_ID: store.key.key_arn,
            env.ENV_UPLOADS_BUCKET: store.uploads.bucket_name,
        }
        functions = Functions(
            self,
            "Functions",
            code_dir=lambda_code_dir,
            vpc=network.vpc,
            subnets=network.private_subnets,
            # Lambdas read the AUTH token from Secrets Manager once per execution environment.
            environment={**shared_env, env.ENV_REDIS_SECRET_ARN: cache.auth_secret.secret_arn},
            log_retention=retention,
        )
        workers = WorkerServices(
            self,
            "Workers",
            queues=queue_specs,
            vpc=network.vpc,
            subnets=network.private_subnets,
            image_source=config.worker_image_uri or ROOT,
            environment={
                **shared_env,
                # boto3 reads only AWS_DEFAULT_REGION (DESIGN 2a).
                env.ENV_AWS_DEFAULT_REGION: Aws.REGION,
                env.ENV_EMAIL_FROM: config.sender,
                env.ENV_SES_CONFIGURATION_SET: mail.configuration_set.configuration_set_name,
                env.ENV_ALERT_RECIPIENTS: ",".join(config.alert_recipients),
            },
            # ECS injects the AUTH token at start; it never appears in the task definition.
            secrets={env.ENV_REDIS_PASSWORD: ecs.Secret.from_secrets_manager(cache.auth_secret)},
            cpu=config.worker_cpu,
            memory_mib=config.worker_memory_mib,
            log_retention=retention,
        )
        cache.allow_from(functions.security_group, workers.security_group)

        api = HttpApi(
            self,
            "Api",
            routes=route_specs,
            handler=functions.api,
            scope_prefix=config.scope_prefix,
            jwt_issuer=config.jwt_issuer,
            jwt_audience=config.jwt_audience,
            cognito_domain_prefix=config.cognito_domain_prefix,
            machine_scopes=[s for s in scopes.ALL if s != scopes.ADMIN],
            throttle_rate=config.api_throttle_rate,
            throttle_burst=config.api_throttle_burst,
            log_retention=retention,
        )
        rules = Schedules(
            self,
            "Schedules",
            schedules=schedule_specs,
            scheduler=functions.scheduler,
            metrics=functions.metrics,
            events_handler=functions.events,
            uploads=store.uploads,
        )
        monitoring = Monitoring(
            self,
            "Monitoring",
            queues=queue_specs,
            workers=workers,
            functions=functions.by_name,
            dead_letters=rules.dead_letters,
            cache_member_ids=cache.member_ids,
            cache_memory_percent=config.cache_memory_alarm_percent,
            oldest_age_seconds=config.oldest_task_age_alarm_seconds,
            alarm_email=config.alarm_email,
        )

        # Least privilege, granted here where every part is in view.
        for function in functions.by_name.values():
            cache.auth_secret.grant_read(function)
        for grantee in (functions.api, functions.events, workers.task_role):
            store.table.grant_read_write_data(grantee)
            store.key.grant_encrypt_decrypt(grantee)
        store.grant_upload(functions.api)
        store.grant_read_uploads(workers.task_role)
        mail.grant_send(workers.task_role)

        CfnOutput(self, "AlarmTopicArn", value=monitoring.topic.topic_arn)
        CfnOutput(self, "DashboardName", value=monitoring.dashboard.dashboard_name)
        CfnOutput(self, "UploadsBucket", value=store.uploads.bucket_name)
        self.parts = nag.Parts(
            network=network,
            store=store,
            cache=cache,
            functions=functions,
            workers=workers,
            api=api,
            schedules=rules,
            monitoring=monitoring,
        )
        self.acknowledgments = nag.acknowledge(self, self.parts)
