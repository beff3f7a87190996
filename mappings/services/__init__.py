"""Writes of mappings: keyword-only functions that check the policy, validate and save with history.

The catalog side lives in `catalog` (source systems, introspection, understanding notes),
`connection`, `introspection`, `profiling` and `ddl_import`; the mapping side adds its own modules.
"""
