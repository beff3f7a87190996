"""Choices of the engagement core, and the allowed moves between states (states as data)."""

from django.db import models


class Role(models.TextChoices):
    IMPLEMENTATION_LEAD = "implementation_lead", "Implementation Lead"
    TECH_BA = "tech_ba", "Tech BA"
    ETL_DEVELOPER = "etl_developer", "ETL Developer"
    CLIENT_SME = "client_sme", "Client SME"
    CLIENT_OPS = "client_ops", "Client Ops (L2)"
    VIEWER = "viewer", "Viewer"


class EngagementStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    ON_HOLD = "on_hold", "On hold"
    IN_PRODUCTION = "in_production", "In production"
    CLOSED = "closed", "Closed"


ENGAGEMENT_STATUS_MOVES: dict[str, set[str]] = {
    EngagementStatus.ACTIVE: {
        EngagementStatus.ON_HOLD,
        EngagementStatus.IN_PRODUCTION,
        EngagementStatus.CLOSED,
    },
    EngagementStatus.ON_HOLD: {EngagementStatus.ACTIVE, EngagementStatus.CLOSED},
    EngagementStatus.IN_PRODUCTION: {EngagementStatus.CLOSED},
    EngagementStatus.CLOSED: set(),
}


class Phase(models.IntegerChoices):
    ORIENTATION = 1, "Orientation & intake"
    SOURCE_UNDERSTANDING = 2, "Source understanding"
    INTERFACE_AND_MAPPING = 3, "Interface review & mapping"
    ETL_BUILD = 4, "ETL build & unit test"
    VALIDATION = 5, "Validation with client"
    DEPLOYMENT = 6, "Deployment & enablement"


class SignoffGate(models.TextChoices):
    MAPPING = "mapping", "Mapping sign-off"
    ETL = "etl", "ETL sign-off"


# Which roles may be named owner of each sign-off gate.
SIGNOFF_ELIGIBLE_ROLES: dict[str, set[str]] = {
    SignoffGate.MAPPING: {Role.CLIENT_SME},
    SignoffGate.ETL: {Role.CLIENT_SME, Role.CLIENT_OPS, Role.IMPLEMENTATION_LEAD},
}


class ReviewGate(models.TextChoices):
    """The gates a spec version is reviewed at (signoff.choices.Gate); who decides each is in
    workbench.policy."""

    MAPPING = "mapping", "Mapping sign-off"
    UAT = "uat", "UAT sign-off"
    CUTOVER = "cutover", "Cutover"


class CutoverStep(models.TextChoices):
    """The production cutover checklist; who ticks each step is in workbench.policy."""

    PIPELINES_DEPLOYED = "pipelines_deployed", "Pipelines deployed"
    FIRST_RUN_VALIDATED = "first_run_validated", "First full run validated"
    SCHEDULE_CONFIRMED = "schedule_confirmed", "Load schedule confirmed by Client Ops"


class NotificationKind(models.TextChoices):
    REVIEW_REQUESTED = "review_requested", "Review requested"
    REVIEW_DECIDED = "review_decided", "Review decided"
    REVIEW_INVALIDATED = "review_invalidated", "Sign-off invalidated"
    MENTIONED = "mentioned", "Mentioned"


class LinkKind(models.TextChoices):
    MART_DOCS = "mart_docs", "Mart documentation"
    SAMPLE_DATA = "sample_data", "Sample data access"
    INTERFACE_ERD = "interface_erd", "Interface ERD"
    OTHER = "other", "Other"


class JobState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


JOB_STATE_MOVES: dict[str, set[str]] = {
    JobState.QUEUED: {JobState.RUNNING, JobState.FAILED},
    JobState.RUNNING: {JobState.SUCCEEDED, JobState.FAILED},
    JobState.SUCCEEDED: set(),
    JobState.FAILED: set(),
}
JOB_FINISHED_STATES = {JobState.SUCCEEDED, JobState.FAILED}


class TokenLifetime(models.IntegerChoices):
    """How long a new API token lives, in days; a token never lives longer than a year."""

    DAYS_30 = 30, "30 days"
    DAYS_90 = 90, "90 days"
    DAYS_365 = 365, "1 year"


TOKEN_MAX_DAYS = 365
