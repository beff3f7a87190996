"""Writes of the engagement core. Every function checks the policy, validates, saves with history.

Called alike by views, the API, management commands and tasks.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.models import User
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from . import policy
from .choices import (
    ENGAGEMENT_STATUS_MOVES,
    SIGNOFF_ELIGIBLE_ROLES,
    TOKEN_MAX_DAYS,
    EngagementStatus,
    Phase,
    Role,
    SignoffGate,
)
from .history import apply_changes, delete_with_history, save_with_history
from .jobs import job_enqueue
from .models import (
    TOKEN_PREFIX_LENGTH,
    ApiToken,
    Engagement,
    GlossaryTerm,
    Membership,
    Notification,
    ReferenceLink,
    SignoffOwner,
    token_key_hash,
    token_key_new,
)
from .policy import Action

ENGAGEMENT_EDITABLE_FIELDS = {"name", "client", "mart_name", "description"}


# --- engagements ---------------------------------------------------------------------------


@transaction.atomic
def engagement_create(
    *,
    slug: str,
    name: str,
    acting_user: User,
    client: str = "",
    mart_name: str = "",
    description: str = "",
) -> Engagement:
    """Create an engagement; its creator becomes its Implementation Lead."""
    policy.check_create_engagement(acting_user)
    engagement = Engagement(
        slug=slug,
        name=name,
        client=client,
        mart_name=mart_name,
        description=description,
        created_by=acting_user,
    )
    save_with_history(engagement, acting_user=acting_user)
    save_with_history(
        Membership(engagement=engagement, user=acting_user, role=Role.IMPLEMENTATION_LEAD),
        acting_user=acting_user,
    )
    policy.forget_roles(acting_user)
    return engagement


@transaction.atomic
def engagement_update(*, engagement: Engagement, data: dict, acting_user: User) -> Engagement:
    policy.check(acting_user, engagement, Action.EDIT_ENGAGEMENT)
    if apply_changes(engagement, data, allowed=ENGAGEMENT_EDITABLE_FIELDS):
        save_with_history(engagement, acting_user=acting_user)
    return engagement


@transaction.atomic
def engagement_set_status(*, engagement: Engagement, status: str, acting_user: User) -> Engagement:
    """The one place an engagement's status moves; only the moves in ENGAGEMENT_STATUS_MOVES."""
    policy.check(acting_user, engagement, Action.EDIT_ENGAGEMENT)
    if status not in EngagementStatus.values:
        raise ValidationError({"status": f"Unknown status '{status}'."})
    if status not in ENGAGEMENT_STATUS_MOVES[engagement.status]:
        raise ValidationError(
            {
                "status": f"An engagement cannot move from "
                f"{EngagementStatus(engagement.status).label} to {EngagementStatus(status).label}."
            },
            code="invalid_transition",
        )
    engagement.status = status
    save_with_history(engagement, acting_user=acting_user)
    return engagement


@transaction.atomic
def engagement_set_phase(
    *, engagement: Engagement, phase: int | None, acting_user: User
) -> Engagement:
    """A Lead sets the current phase by hand (an override the dashboard shows), or with None lets
    the phase outputs decide again."""
    policy.check(acting_user, engagement, Action.EDIT_ENGAGEMENT)
    if phase is None:
        engagement.phase_overridden = False
    elif phase not in Phase.values:
        raise ValidationError({"current_phase": f"Unknown phase '{phase}' (1–6)."})
    else:
        engagement.current_phase, engagement.phase_overridden = phase, True
    save_with_history(engagement, acting_user=acting_user)
    return engagement


# --- members and sign-off owners -----------------------------------------------------------


def _user_by_username(username: str):
    try:
        return User.objects.get(username=username, is_active=True)
    except User.DoesNotExist:
        raise ValidationError({"user": f"There is no active user named '{username}'."}) from None


@transaction.atomic
def membership_add(
    *, engagement: Engagement, username: str, acting_user: User, role: str = Role.VIEWER
) -> Membership:
    policy.check(acting_user, engagement, Action.MANAGE_MEMBERS)
    membership = Membership(engagement=engagement, user=_user_by_username(username), role=role)
    save_with_history(membership, acting_user=acting_user)
    return membership


@transaction.atomic
def membership_add_new_user(
    *,
    engagement: Engagement,
    username: str,
    password: str,
    acting_user: User,
    role: str = Role.VIEWER,
    email: str = "",
) -> Membership:
    """Create a user account with a password and make it a member (for scripted set-ups:
    `add_member --create --password-env VAR`). The password must pass the site's validators."""
    policy.check(acting_user, engagement, Action.MANAGE_MEMBERS)
    user = _new_user(username=username, email=email)
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from None
    user.set_password(password)
    user.save()
    return membership_add(
        engagement=engagement, username=username, role=role, acting_user=acting_user
    )


@transaction.atomic
def membership_invite(
    *,
    engagement: Engagement,
    name: str,
    email: str,
    acting_user: User,
    role: str = Role.VIEWER,
    username: str = "",
) -> Membership:
    """Add a person who has no account yet: the account is created without a usable password and
    they are e-mailed a link to set one (it works once and expires after PASSWORD_RESET_TIMEOUT).

    The e-mail is sent inside the transaction: when it cannot be sent, no account is left behind.
    """
    policy.check(acting_user, engagement, Action.MANAGE_MEMBERS)
    if role not in Role.values:
        raise ValidationError({"role": f"Unknown role '{role}'."})
    email = (email or "").strip()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": f"'{email}' is not a valid e-mail address."}) from None
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError(
            {"email": f"A user with the e-mail {email} already exists; add them by user name."}
        )
    first, _, last = " ".join((name or "").split()).partition(" ")
    if not first:
        raise ValidationError({"name": "Give the person's name."})
    user = _new_user(
        username=username.strip() or _free_username(email), email=email, first=first, last=last
    )
    user.set_unusable_password()
    user.save()
    membership = membership_add(
        engagement=engagement, username=user.username, role=role, acting_user=acting_user
    )
    _send_password_set_link(user, engagement=engagement, inviter=acting_user)
    return membership


def membership_resend_invitation(*, membership: Membership, acting_user: User) -> Membership:
    """E-mail an invited member a fresh password-set link (the first one expired or was lost).
    Refused for a member who has chosen a password already: they sign in."""
    engagement = membership.engagement
    policy.check(acting_user, engagement, Action.MANAGE_MEMBERS)
    user = membership.user
    if user.has_usable_password():
        raise ValidationError(
            {"user": f"{user.username} has already chosen a password; they can sign in."}
        )
    if not user.email:
        raise ValidationError({"user": f"{user.username} has no e-mail address to send a link to."})
    _send_password_set_link(user, engagement=engagement, inviter=acting_user)
    return membership


def _new_user(*, username: str, email: str, first: str = "", last: str = "") -> User:
    if User.objects.filter(username=username).exists():
        raise ValidationError(
            {"user": f"A user named '{username}' already exists; add them without creating."}
        )
    user = User(username=username, email=email.strip(), first_name=first, last_name=last)
    user.full_clean(exclude=["password"])
    return user


def _free_username(email: str) -> str:
    """The e-mail's local part made a valid user name, numbered when it is taken."""
    base = re.sub(r"[^\w.@+-]", "", email.split("@")[0])[:140] or "user"
    taken = set(User.objects.filter(username__startswith=base).values_list("username", flat=True))
    name, number = base, 1
    while name in taken:
        number += 1
        name = f"{base}{number}"
    return name


def _send_password_set_link(user: User, *, engagement: Engagement, inviter: User) -> None:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    link = absolute_url(reverse("password-set", args=[uid, token]))
    days = max(1, settings.PASSWORD_RESET_TIMEOUT // 86400)
    send_mail(
        subject=f"[{engagement.name}] You are invited to the Mapping Workbench",
        message=(
            f"{inviter.get_full_name() or inviter.username} added you to {engagement.name} as "
            f"{Role(engagement.memberships.get(user=user).role).label}.\n\n"
            f"Your user name is {user.username}. Choose your password here (the link works once "
            f"and for {days} day{'s' if days != 1 else ''}):\n\n{link}"
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[user.email],
    )


@transaction.atomic
def membership_change_role(*, membership: Membership, role: str, acting_user: User) -> Membership:
    engagement = membership.engagement
    policy.check(acting_user, engagement, Action.MANAGE_MEMBERS)
    if role != Role.IMPLEMENTATION_LEAD:
        _refuse_losing_last_lead(membership)
    membership.role = role
    _refuse_breaking_signoff_ownership(membership)
    save_with_history(membership, acting_user=acting_user)
    policy.forget_roles(membership.user)
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, acting_user: User) -> None:
    policy.check(acting_user, membership.engagement, Action.MANAGE_MEMBERS)
    _refuse_losing_last_lead(membership)
    gates = SignoffOwner.objects.filter(engagement=membership.engagement, user=membership.user)
    if gates.exists():
        raise ValidationError(
            f"{membership.user} is the named owner of the "
            f"{', '.join(g.get_gate_display() for g in gates)}; name another owner first."
        )
    delete_with_history(membership, acting_user=acting_user)
    policy.forget_roles(membership.user)


def _refuse_losing_last_lead(membership: Membership) -> None:
    if membership.role != Role.IMPLEMENTATION_LEAD:
        return
    other_leads = Membership.objects.filter(
        engagement=membership.engagement, role=Role.IMPLEMENTATION_LEAD
    ).exclude(pk=membership.pk)
    if not other_leads.exists():
        raise ValidationError("An engagement needs at least one Implementation Lead.")


def _refuse_breaking_signoff_ownership(membership: Membership) -> None:
    for owner in SignoffOwner.objects.filter(
        engagement=membership.engagement, user=membership.user
    ):
        if membership.role not in SIGNOFF_ELIGIBLE_ROLES[owner.gate]:
            raise ValidationError(
                {
                    "role": f"{membership.user} owns the {owner.get_gate_display()}, which needs "
                    f"the role {_role_labels(owner.gate)}."
                }
            )


def _role_labels(gate: str) -> str:
    return " or ".join(sorted(Role(r).label for r in SIGNOFF_ELIGIBLE_ROLES[gate]))


@transaction.atomic
def signoff_owner_set(
    *, engagement: Engagement, gate: str, username: str, acting_user: User
) -> SignoffOwner:
    """Name (or replace) the owner of a sign-off gate; they must be a member in an eligible role."""
    policy.check(acting_user, engagement, Action.MANAGE_SIGNOFF_OWNERS)
    if gate not in SignoffGate.values:
        raise ValidationError({"gate": f"Unknown sign-off gate '{gate}'."})
    user = _user_by_username(username)
    role = engagement.memberships.filter(user=user).values_list("role", flat=True).first()
    if role not in SIGNOFF_ELIGIBLE_ROLES[gate]:
        raise ValidationError(
            {
                "user": f"The {SignoffGate(gate).label} owner must be a member with the role "
                f"{_role_labels(gate)}; {username} is "
                f"{Role(role).label if role else 'not a member'}."
            }
        )
    owner = SignoffOwner.objects.filter(engagement=engagement, gate=gate).first()
    owner = owner or SignoffOwner(engagement=engagement, gate=gate)
    owner.user = user
    save_with_history(owner, acting_user=acting_user)
    return owner


# --- glossary and reference links ----------------------------------------------------------

GLOSSARY_FIELDS = {"term", "definition", "synonyms"}
LINK_FIELDS = {"kind", "title", "url", "notes"}


@transaction.atomic
def glossary_term_create(*, engagement: Engagement, data: dict, acting_user: User) -> GlossaryTerm:
    policy.check(acting_user, engagement, Action.EDIT_GLOSSARY)
    term = GlossaryTerm(engagement=engagement)
    apply_changes(term, data, allowed=GLOSSARY_FIELDS)
    save_with_history(term, acting_user=acting_user)
    return term


@transaction.atomic
def glossary_term_update(*, term: GlossaryTerm, data: dict, acting_user: User) -> GlossaryTerm:
    policy.check(acting_user, term.engagement, Action.EDIT_GLOSSARY)
    if apply_changes(term, data, allowed=GLOSSARY_FIELDS):
        save_with_history(term, acting_user=acting_user)
    return term


@transaction.atomic
def glossary_term_delete(*, term: GlossaryTerm, acting_user: User) -> None:
    policy.check(acting_user, term.engagement, Action.EDIT_GLOSSARY)
    delete_with_history(term, acting_user=acting_user)


@transaction.atomic
def link_create(*, engagement: Engagement, data: dict, acting_user: User) -> ReferenceLink:
    policy.check(acting_user, engagement, Action.EDIT_LINKS)
    link = ReferenceLink(engagement=engagement)
    apply_changes(link, data, allowed=LINK_FIELDS)
    save_with_history(link, acting_user=acting_user)
    return link


@transaction.atomic
def link_update(*, link: ReferenceLink, data: dict, acting_user: User) -> ReferenceLink:
    policy.check(acting_user, link.engagement, Action.EDIT_LINKS)
    if apply_changes(link, data, allowed=LINK_FIELDS):
        save_with_history(link, acting_user=acting_user)
    return link


@transaction.atomic
def link_delete(*, link: ReferenceLink, acting_user: User) -> None:
    policy.check(acting_user, link.engagement, Action.EDIT_LINKS)
    delete_with_history(link, acting_user=acting_user)


# --- jobs ----------------------------------------------------------------------------------


def demo_job_enabled() -> bool:
    return bool(settings.WORKBENCH_DEMO_JOB)


def demo_job_start(
    *, engagement: Engagement, acting_user: User, steps: int = 10, pause: float = 0.2
):
    """Start the demo job that proves queue → worker → progress → result end to end.

    A development aid: it keeps a worker busy for up to 250 s, so production (DEBUG off, where
    WORKBENCH_DEMO_JOB defaults to off) refuses it."""
    if not demo_job_enabled():
        raise PermissionDenied("The demo job runs only in development (DEBUG on).")
    policy.check(acting_user, engagement, Action.RUN_JOBS)
    if not 1 <= steps <= 50:
        raise ValidationError({"steps": "Choose between 1 and 50 steps."})
    return job_enqueue(
        kind="demo.countdown",
        engagement=engagement,
        acting_user=acting_user,
        params={"steps": steps, "pause": pause},
    )


# --- notifications: the inbox ---------------------------------------------------------------------


def notify(
    recipients: Iterable,
    *,
    engagement: Engagement,
    kind: str,
    subject: str,
    body: str,
    url: str,
    actor,
) -> list[Notification]:
    """Inbox lines for each recipient (never the actor, each once), e-mailed once the transaction
    commits. Safe to call inside the caller's transaction."""
    seen: set[int] = set()
    rows = []
    for user in recipients:
        if user is None or user.pk in seen or (actor is not None and user.pk == actor.pk):
            continue
        seen.add(user.pk)
        rows.append(
            Notification(
                recipient=user,
                engagement=engagement,
                kind=kind,
                subject=subject[:300],
                body=body,
                url=url,
                actor=actor,
            )
        )
    for row in rows:
        row.save()
    ids = [row.pk for row in rows]
    if ids:
        from .tasks import send_notification_emails

        transaction.on_commit(lambda: send_notification_emails.delay(ids))
    return rows


def absolute_url(path: str) -> str:
    """The path under SITE_URL (relative when SITE_URL is unset, as in development)."""
    if "://" in path:
        return path
    return f"{settings.SITE_URL.rstrip('/')}/{path.lstrip('/')}" if settings.SITE_URL else path


def notification_emails_send(*, notification_ids: list[int]) -> int:
    """E-mail the notifications not e-mailed yet (Django's e-mail backend); returns the count.

    Each one is marked e-mailed right after it is sent, so when the server fails half-way the
    task's retry sends only the rest. Links are absolute with SITE_URL (required in production).
    """
    sent = 0
    for note in Notification.objects.filter(pk__in=notification_ids, emailed_at__isnull=True):
        recipient = note.recipient
        if recipient.email:
            link = f"\n\n{absolute_url(note.url)}" if note.url else ""
            send_mail(
                subject=f"[{note.engagement.name}] {note.subject}",
                message=(note.body or note.subject) + link,
                from_email=settings.DEFAULT_FROM_EMAIL,
                recipient_list=[recipient.email],
            )
            sent += 1
        note.emailed_at = timezone.now()
        note.save(update_fields=["emailed_at"])
    return sent


@transaction.atomic
def notification_mark_read(*, notification: Notification, acting_user: User) -> Notification:
    if notification.recipient_id != acting_user.pk:
        raise PermissionDenied("This is not your notification.")
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


@transaction.atomic
def notification_mark_all_read(*, acting_user: User) -> int:
    unread = list(Notification.objects.filter(recipient=acting_user, read_at__isnull=True))
    now = timezone.now()
    for note in unread:
        note.read_at = now
        note.save(update_fields=["read_at"])
    return len(unread)


# --- API tokens ----------------------------------------------------------------------------

# A token's last use is stamped at most this often, so a busy client does not write on every call.
TOKEN_USE_STAMP_EVERY = dt.timedelta(minutes=1)


@transaction.atomic
def token_create(*, name: str, days: int, acting_user: User) -> tuple[ApiToken, str]:
    """A new API token of `acting_user`, valid for `days` (1 to 365). Returns the token and its
    key: the key is shown to the user once and never stored (only its SHA-256)."""
    policy.check_create_token(acting_user)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Give the token a name, e.g. the script that will use it."})
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= TOKEN_MAX_DAYS:
        raise ValidationError({"days": f"A token lives from 1 to {TOKEN_MAX_DAYS} days."})
    key = token_key_new()
    now = timezone.now()
    token = ApiToken(
        user=acting_user,
        name=name,
        key_hash=token_key_hash(key),
        prefix=key[:TOKEN_PREFIX_LENGTH],
        created_at=now,
        expires_at=now + dt.timedelta(days=days),
    )
    token.full_clean()
    token.save()
    return token, key


@transaction.atomic
def token_revoke(*, token: ApiToken, acting_user: User) -> ApiToken:
    """Revoke `token` from now on; revoking a revoked token changes nothing."""
    policy.check_manage_token(acting_user, token)
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.revoked_by = acting_user
        token.save(update_fields=["revoked_at", "revoked_by"])
    return token


def token_mark_used(*, token: ApiToken) -> None:
    """Stamp the token's last use (at most once a minute; the row is not historied)."""
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= TOKEN_USE_STAMP_EVERY:
        token.last_used_at = now
        token.save(update_fields=["last_used_at"])
