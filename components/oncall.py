"""PagerDuty on-call of one team, from `reliability:oncall.teams.TEAM` (reliability/incidents/oncall.py).

Creates the team, its members' memberships (users are looked up by email, never created: HR and
SSO own people), one schedule per rotation, the escalation policy, and PagerDuty services with an
Events API v2 integration: one for the team, which takes the team's pages that name no service of
its own, plus, with `servicesPer: service`, one per SLO'd service of the team, from the specs
(`reliability.alerting.routing.pagerduty_services`). Each integration's routing key leaves as a
secret Output under its `managed_key` name, for the Alertmanager credentials Secret: nobody copies a key.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_pagerduty as pagerduty

from reliability.alerting.routing import managed_key
from reliability.incidents.oncall import Rotation, Team

EVENTS_API_V2 = "events_api_v2_inbound_integration"


def schedule_layers(
    rotation_name: str, rotation: Rotation, user_ids: dict[str, pulumi.Output[str]]
) -> list[pagerduty.ScheduleLayerArgs]:
    return [
        pagerduty.ScheduleLayerArgs(
            name=f"{rotation_name}-{index + 1}",
            start=layer.start,
            rotation_virtual_start=layer.start,
            rotation_turn_length_seconds=layer.turn_seconds,
            users=[user_ids[email] for email in layer.members],  # order is the order of turns
        )
        for index, layer in enumerate(rotation.layers)
    ]


@dataclass(frozen=True)
class OnCallTeamArgs:
    team: str
    spec: Team
    services: tuple[str | None, ...]  # what gets a PagerDuty service: None for the team-wide one, then services
    environment: str


class OnCallTeam(pulumi.ComponentResource):
    routing_keys: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: OnCallTeamArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("reliability:incidents:OnCallTeam", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        spec, team_name = args.spec, args.team
        team = pagerduty.Team(f"{name}-team", name=team_name,
                              description=spec.description or f"{team_name} (reliability-as-code)", opts=child)
        user_ids = {email: pagerduty.get_user_output(email=email, opts=invoke).id for email in spec.members}
        for email in spec.members:
            pagerduty.TeamMembership(f"{name}-member-{email}", team_id=team.id, user_id=user_ids[email],
                                     role="responder", opts=child)
        schedules = {
            rotation_name: pagerduty.Schedule(
                f"{name}-{rotation_name}",
                name=f"{team_name} {rotation_name}",
                description=f"{rotation_name} rotation of {team_name} (reliability-as-code)",
                time_zone=rotation.time_zone,
                teams=[team.id],
                layers=schedule_layers(rotation_name, rotation, user_ids),
                opts=child,
            )
            for rotation_name, rotation in sorted(spec.rotations.items())
        }
        policy = pagerduty.EscalationPolicy(
            f"{name}-escalation",
            name=team_name,
            description=f"Who is paged for {team_name}, level by level (reliability-as-code)",
            num_loops=spec.escalation.repeat,
            teams=team.id,
            rules=[
                pagerduty.EscalationPolicyRuleArgs(
                    escalation_delay_in_minutes=level.delay_minutes,
                    targets=[
                        *(pagerduty.EscalationPolicyRuleTargetArgs(type="schedule_reference", id=schedules[r].id)
                          for r in level.rotations),
                        *(pagerduty.EscalationPolicyRuleTargetArgs(type="user_reference", id=user_ids[u])
                          for u in level.users),
                    ],
                )
                for level in spec.escalation.levels
            ],
            opts=child,
        )
        self.routing_keys = {}
        for service in args.services:
            suffix = f"-{service}" if service else ""
            pd_service = pagerduty.Service(
                f"{name}-service{suffix}",
                name=f"{service or team_name} ({args.environment})",
                description=f"Pages of {service or 'team ' + team_name} from the {args.environment} Alertmanager",
                escalation_policy=policy.id,
                alert_creation="create_alerts_and_incidents",
                auto_resolve_timeout="null",  # Alertmanager sends the resolve
                acknowledgement_timeout="null",
                opts=child,
            )
            integration = pagerduty.ServiceIntegration(
                f"{name}-events{suffix}", name="Alertmanager (Events API v2)", service=pd_service.id,
                type=EVENTS_API_V2,
                # The provider returns the key in plain state; keep it encrypted there too.
                opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["integrationKey"]),
            )
            self.routing_keys[managed_key(team_name, service)] = pulumi.Output.secret(integration.integration_key)
        self.register_outputs({
            "team": team.id,
            "escalationPolicy": policy.id,
            "schedules": {rotation: schedule.id for rotation, schedule in schedules.items()},
            "routingKeyNames": sorted(self.routing_keys),
        })
