"""The public HTTP API: one route per entry of the shared route table, JWT-authorized.

Identity is a Cognito user pool with a resource server whose identifier is the scope prefix
(``taskport`` -> scopes read ``taskport/tasks:write``) and machine clients using the
client-credentials flow; or, via context, an existing issuer and audience.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

import jsii
from aws_cdk import CfnOutput, Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from functions.api.routes import DEFAULT_ROUTE_KEY, Route
from workers.contract import scopes

# Fields of each access log line (HTTP API $context variables), JSON for Logs Insights.
ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "requestTime": "$context.requestTime",
    "routeKey": "$context.routeKey",
    "status": "$context.status",
    "responseLength": "$context.responseLength",
    "responseLatency": "$context.responseLatency",
    "integrationLatency": "$context.integrationLatency",
    "integrationError": "$context.integrationErrorMessage",
    "authorizerError": "$context.authorizer.error",
}


@jsii.implements(apigwv2.IAccessLogSettings)
class AccessLogSettings:
    """``HttpStage`` wants an ``IAccessLogSettings`` object, not a dict."""

    def __init__(
        self, *, destination: apigwv2.IAccessLogDestination, log_format: apigw.AccessLogFormat
    ) -> None:
        self._destination = destination
        self._format = log_format

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigw.AccessLogFormat:
        return self._format


def _output(scope: Construct, name: str, value: str, description: str) -> None:
    """A stack output with a stable key (docs/deploy.md and scripts query it by name)."""
    CfnOutput(scope, name, value=value, description=description).override_logical_id(name)


def route_construct_id(route: Route) -> str:
    return f"Route-{route.operation_id}"


def authorization_scopes(route: Route, prefix: str) -> list[str]:
    return [f"{prefix}{scope}" for scope in route.scopes]


def resource_server_id(prefix: str) -> str:
    """Cognito's resource server identifier is the scope prefix without its slash."""
    return prefix.rstrip("/")


class HttpApi(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        routes: Iterable[Route],
        handler: lambda_.IFunction,
        scope_prefix: str,
        jwt_issuer: str | None,
        jwt_audience: Sequence[str],
        cognito_domain_prefix: str | None,
        machine_scopes: Sequence[str],
        throttle_rate: int,
        throttle_burst: int,
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, construct_id)
        self.user_pool: cognito.UserPool | None = None
        if jwt_issuer is None:
            authorizer: apigwv2.IHttpRouteAuthorizer = self._cognito(
                scope_prefix=scope_prefix,
                domain_prefix=cognito_domain_prefix,
                machine_scopes=machine_scopes,
            )
        else:
            authorizer = authorizers.HttpJwtAuthorizer(
                "Jwt", jwt_issuer, jwt_audience=list(jwt_audience)
            )

        integration = integrations.HttpLambdaIntegration(
            "Handler", handler, payload_format_version=apigwv2.PayloadFormatVersion.VERSION_2_0
        )
        # default_integration creates the "$default" route without an authorizer, so
        # unknown paths get taskport's 404 instead of API Gateway's.
        self.api = apigwv2.HttpApi(
            self,
            "HttpApi",
            description="taskport public API",
            create_default_stage=False,
            default_integration=integration,
        )
        self.default_route_key = DEFAULT_ROUTE_KEY
        for route in routes:
            apigwv2.HttpRoute(
                self,
                route_construct_id(route),
                http_api=self.api,
                route_key=apigwv2.HttpRouteKey.with_(route.path, apigwv2.HttpMethod(route.method)),
                integration=integration,
                authorizer=apigwv2.HttpNoneAuthorizer() if route.public else authorizer,
                authorization_scopes=authorization_scopes(route, scope_prefix) or None,
            )
        access_logs = logs.LogGroup(self, "AccessLogs", retention=log_retention)
        self.stage = apigwv2.HttpStage(
            self,
            "Stage",
            http_api=self.api,
            stage_name="$default",
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(rate_limit=throttle_rate, burst_limit=throttle_burst),
            access_log_settings=AccessLogSettings(
                destination=apigwv2.LogGroupLogDestination(access_logs),
                log_format=apigw.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FIELDS)),
            ),
        )
        _output(self, "ApiUrl", self.api.api_endpoint, "taskport API base URL")

    def _cognito(
        self, *, scope_prefix: str, domain_prefix: str | None, machine_scopes: Sequence[str]
    ) -> apigwv2.IHttpRouteAuthorizer:
        pool = cognito.UserPool(
            self,
            "UserPool",
            # Machine clients only: nobody signs up; users, if ever added, need MFA.
            self_sign_up_enabled=False,
            mfa=cognito.Mfa.REQUIRED,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            password_policy=cognito.PasswordPolicy(
                min_length=14,
                require_digits=True,
                require_lowercase=True,
                require_uppercase=True,
                require_symbols=True,
            ),
            account_recovery=cognito.AccountRecovery.NONE,
            feature_plan=cognito.FeaturePlan.ESSENTIALS,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.user_pool = pool
        server = pool.add_resource_server(
            "ResourceServer",
            identifier=resource_server_id(scope_prefix),
            scopes=[
                cognito.ResourceServerScope(scope_name=s, scope_description=f"taskport {s}")
                for s in scopes.ALL
            ],
        )
        prefix = domain_prefix or f"{Stack.of(self).stack_name.lower()}-{Stack.of(self).account}"
        domain = pool.add_domain(
            "Domain", cognito_domain=cognito.CognitoDomainOptions(domain_prefix=prefix)
        )

        def client(name: str, granted: Sequence[str]) -> cognito.UserPoolClient:
            return pool.add_client(
                name,
                generate_secret=True,
                auth_flows=cognito.AuthFlow(),
                o_auth=cognito.OAuthSettings(
                    flows=cognito.OAuthFlows(client_credentials=True),
                    scopes=[
                        cognito.OAuthScope.resource_server(
                            server,
                            cognito.ResourceServerScope(
                                scope_name=s, scope_description=f"taskport {s}"
                            ),
                        )
                        for s in granted
                    ],
                ),
                access_token_validity=Duration.hours(1),
                prevent_user_existence_errors=True,
            )

        machine = client("MachineClient", machine_scopes)
        admin = client("AdminClient", (scopes.ADMIN,))
        CfnOutput(
            self,
            "TokenEndpoint",
            value=f"{domain.base_url()}/oauth2/token",
            description="OAuth2 token URL",
        )
        CfnOutput(
            self,
            "MachineClientId",
            value=machine.user_pool_client_id,
            description="client credentials client",
        )
        CfnOutput(
            self, "AdminClientId", value=admin.user_pool_client_id, description="admin-scope client"
        )
        CfnOutput(self, "UserPoolId", value=pool.user_pool_id)
        return authorizers.HttpUserPoolAuthorizer("Jwt", pool, user_pool_clients=[machine, admin])
