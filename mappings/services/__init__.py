"""Writes of mappings: keyword-only functions that check the policy, validate and save with history."""
