"""Spec versions, review requests, decisions, UAT feedback and the cutover checklist."""
