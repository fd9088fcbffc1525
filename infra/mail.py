"""SES: the sending domain identity and a configuration set whose bounce and complaint
events go to the default EventBridge bus (the only bus SES publishes to), where a rule
sends them to the events Lambda (see schedules.py)."""

from __future__ import annotations

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_ses as ses
from constructs import Construct


class Mail(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, domain: str, mail_from_subdomain: str
    ) -> None:
        super().__init__(scope, construct_id)
        self.configuration_set = ses.ConfigurationSet(
            self,
            "ConfigurationSet",
            reputation_metrics=True,
            tls_policy=ses.ConfigurationSetTlsPolicy.REQUIRE,
            suppression_reasons=ses.SuppressionReasons.BOUNCES_AND_COMPLAINTS,
        )
        default_bus = events.EventBus.from_event_bus_name(self, "DefaultBus", "default")
        self.configuration_set.add_event_destination(
            "ToEventBridge",
            destination=ses.EventDestination.event_bus(default_bus),
            events=[ses.EmailSendingEvent.BOUNCE, ses.EmailSendingEvent.COMPLAINT],
        )
        # Easy DKIM (three CNAMEs) and a custom MAIL FROM (MX + SPF TXT): docs/deploy.md.
        self.identity = ses.EmailIdentity(
            self,
            "Identity",
            identity=ses.Identity.domain(domain),
            mail_from_domain=f"{mail_from_subdomain}.{domain}",
            configuration_set=self.configuration_set,
        )

    def grant_send(self, grantee: iam.IGrantable) -> None:
        """SendEmail from this identity with this configuration set, nothing else."""
        configuration_set_arn = Stack.of(self).format_arn(
            service="ses",
            resource="configuration-set",
            resource_name=self.configuration_set.configuration_set_name,
            arn_format=ArnFormat.SLASH_RESOURCE_NAME,
        )
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["ses:SendEmail", "ses:SendRawEmail"],
                resources=[self.identity.email_identity_arn, configuration_set_arn],
            )
        )
