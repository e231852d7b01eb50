"""Imports every model, so that metadata (and Alembic) sees the whole schema."""

from crm.api.models import ApiToken
from crm.audit.models import AuditEntry
from crm.auth.models import LoginFailure, SetupToken, User, UserSession
from crm.engagements.models import (
    Engagement,
    EngagementPartner,
    EngagementPerson,
    EngagementStaff,
    EngagementStrategy,
    EngagementVictimGroup,
)
from crm.followups.models import FollowUp
from crm.frameworks.models import Framework, FrameworkDocument, FrameworkPartner
from crm.partners.models import Contact, Partner, PartnerVictimGroup
from crm.people.models import ConsentEvent, IdentityAccess, Person, PersonVictimGroup
from crm.reports.models import IndicatorSetting, ReportingPeriod

__all__ = [
    "ApiToken",
    "AuditEntry",
    "ConsentEvent",
    "Contact",
    "Engagement",
    "EngagementPartner",
    "EngagementPerson",
    "EngagementStaff",
    "EngagementStrategy",
    "EngagementVictimGroup",
    "FollowUp",
    "Framework",
    "FrameworkDocument",
    "FrameworkPartner",
    "IdentityAccess",
    "IndicatorSetting",
    "LoginFailure",
    "Partner",
    "PartnerVictimGroup",
    "Person",
    "PersonVictimGroup",
    "ReportingPeriod",
    "SetupToken",
    "User",
    "UserSession",
]
