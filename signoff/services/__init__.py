"""Writes of signoff, split by concern: `versions`, `reviews`, `uat`, `cutover`, `notify`.

Every workflow move is one guarded `do_<verb>` function: keyword-only, atomic, checking the policy
and the gate's rules, moving state only along the dicts of signoff.choices, writing its AuditEvent
row in the same transaction, and sending notifications through the core's inbox
(workbench.services.notify: in-app rows now, e-mail on commit).

The public names are re-exported here, so `from signoff.services import X` keeps working.
"""

from .cutover import do_tick_cutover, do_untick_cutover
from .notify import (
    do_mark_all_read,
    do_mark_read,
    do_notify_changed_since,
    notify_mentions,
    tell_approvers_of_change,
)
from .reviews import (
    _move_review,
    check_may_decide,
    do_cancel_review,
    do_decide,
    do_request_review,
    do_start_review,
    do_submit_for_review,
    gate_deciders,
    gate_owner,
)
from .uat import UAT_FIELDS, do_raise_uat_item, do_reopen_uat_item, do_resolve_uat_item
from .versions import do_submit_version

__all__ = [
    "UAT_FIELDS",
    "_move_review",
    "check_may_decide",
    "do_cancel_review",
    "do_decide",
    "do_mark_all_read",
    "do_mark_read",
    "do_notify_changed_since",
    "do_raise_uat_item",
    "do_reopen_uat_item",
    "do_request_review",
    "do_resolve_uat_item",
    "do_start_review",
    "do_submit_for_review",
    "do_submit_version",
    "do_tick_cutover",
    "do_untick_cutover",
    "gate_deciders",
    "gate_owner",
    "notify_mentions",
    "tell_approvers_of_change",
]
