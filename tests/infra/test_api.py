"""HTTP API: one route per route-table entry with its scopes, $default, Cognito, logs."""

from __future__ import annotations

import json
from pathlib import Path

from aws_cdk import App, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk.assertions import Capture, Match, Template

from functions.api.routes import DEFAULT_ROUTE_KEY, ROUTES
from infra.http_api import HttpApi
from tests.infra.conftest import Synthesized, cdk_context
from workers.contract import scopes


def _routes(synthesized: Synthesized) -> dict[str, dict]:
    return {
        r["Properties"]["RouteKey"]: r["Properties"]
        for r in synthesized.resources("AWS::ApiGatewayV2::Route").values()
    }


def test_one_route_per_table_entry_plus_default(synthesized: Synthesized) -> None:
    synthesized.template.resource_count_is("AWS::ApiGatewayV2::Route", len(ROUTES) + 1)
    assert set(_routes(synthesized)) == {r.route_key for r in ROUTES} | {DEFAULT_ROUTE_KEY}


def test_route_scopes_and_authorizers(synthesized: Synthesized) -> None:
    routes = _routes(synthesized)
    (authorizer_id,) = synthesized.resources("AWS::ApiGatewayV2::Authorizer")
    for route in ROUTES:
        props = routes[route.route_key]
        if route.public:
            assert props.get("AuthorizationType", "NONE") == "NONE", route.route_key
            assert "AuthorizationScopes" not in props
        else:
            assert props["AuthorizationType"] == "JWT"
            assert props["AuthorizerId"] == {"Ref": authorizer_id}
            assert props["AuthorizationScopes"] == [
                f"{scopes.DEFAULT_PREFIX}{s}" for s in route.scopes
            ]
    default = routes[DEFAULT_ROUTE_KEY]
    assert default.get("AuthorizationType", "NONE") == "NONE"
    # Every route goes to the one API Lambda integration.
    (integration_id,) = synthesized.resources("AWS::ApiGatewayV2::Integration")
    assert {str(p["Target"]) for p in routes.values()} == {
        str({"Fn::Join": ["", ["integrations/", {"Ref": integration_id}]]})
    }


def test_integration_targets_the_api_lambda_with_payload_v2(synthesized: Synthesized) -> None:
    api_function = synthesized.logical_id(synthesized.stack.parts.functions.api)
    synthesized.template.has_resource_properties(
        "AWS::ApiGatewayV2::Integration",
        {
            "IntegrationType": "AWS_PROXY",
            "PayloadFormatVersion": "2.0",
            "IntegrationUri": {"Fn::GetAtt": [api_function, "Arn"]},
        },
    )


def test_cognito_resource_server_scopes_and_machine_client(synthesized: Synthesized) -> None:
    identifier = scopes.DEFAULT_PREFIX.rstrip("/")
    synthesized.template.has_resource_properties(
        "AWS::Cognito::UserPoolResourceServer",
        {
            "Identifier": identifier,
            "Scopes": [{"ScopeName": s, "ScopeDescription": Match.any_value()} for s in scopes.ALL],
        },
    )
    granted = Capture()
    synthesized.template.has_resource_properties(
        "AWS::Cognito::UserPoolClient",
        {
            "AllowedOAuthFlows": ["client_credentials"],
            "AllowedOAuthFlowsUserPoolClient": True,
            "GenerateSecret": True,
            "AllowedOAuthScopes": granted,
        },
    )
    synthesized.template.has_resource_properties(
        "AWS::Cognito::UserPool", {"AdminCreateUserConfig": {"AllowAdminCreateUserOnly": True}}
    )
    outputs = synthesized.json["Outputs"]
    (token_endpoint,) = [v["Value"] for k, v in outputs.items() if "TokenEndpoint" in k]
    assert "/oauth2/token" in json.dumps(token_endpoint)
    (api_url,) = [v["Value"] for k, v in outputs.items() if k.startswith("ApiUrl")]
    assert "ApiEndpoint" in json.dumps(api_url)


def test_stage_access_logs_and_throttling(synthesized: Synthesized) -> None:
    log_format = Capture()
    synthesized.template.has_resource_properties(
        "AWS::ApiGatewayV2::Stage",
        {
            "StageName": "$default",
            "AutoDeploy": True,
            "AccessLogSettings": {"DestinationArn": Match.any_value(), "Format": log_format},
            "DefaultRouteSettings": {
                "ThrottlingBurstLimit": Match.any_value(),
                "ThrottlingRateLimit": Match.any_value(),
            },
        },
    )
    assert "$context.requestId" in log_format.as_string()


def test_existing_issuer_replaces_cognito(tmp_path: Path) -> None:
    app = App(context=cdk_context(), outdir=str(tmp_path), builtin_cloud_formation_validation=False)
    stack = Stack(app, "ApiOnly")
    handler = lambda_.Function(
        stack,
        "Handler",
        runtime=lambda_.Runtime.PYTHON_3_12,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return {}\n"),
    )
    HttpApi(
        stack,
        "Api",
        routes=ROUTES,
        handler=handler,
        scope_prefix="https://api.example.com/",
        jwt_issuer="https://issuer.example.com/",
        jwt_audience=("taskport-api",),
        cognito_domain_prefix=None,
        machine_scopes=scopes.ALL,
        throttle_rate=10,
        throttle_burst=20,
        log_retention=logs.RetentionDays.ONE_WEEK,
    )
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::Cognito::UserPool", 0)
    template.has_resource_properties(
        "AWS::ApiGatewayV2::Authorizer",
        {
            "AuthorizerType": "JWT",
            "JwtConfiguration": {
                "Issuer": "https://issuer.example.com/",
                "Audience": ["taskport-api"],
            },
        },
    )
    private = next(r for r in ROUTES if not r.public)
    template.has_resource_properties(
        "AWS::ApiGatewayV2::Route",
        {
            "RouteKey": private.route_key,
            "AuthorizationScopes": [f"https://api.example.com/{s}" for s in private.scopes],
        },
    )
