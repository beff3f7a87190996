"""Load strategies: which one an entity uses and whether the contract lets it.

An entity's `load_strategy` is data (the Entities sheet, the entity page, the API). Blank means the
workbench chooses: a merge on the primary key when the contract gives the entity one, else a full
refresh. The rules here are the same for the page, the workbook import and the ETL plan.
"""

from __future__ import annotations

from .choices import LoadStrategy


def resolve_strategy(chosen: str, *, primary_key: list[str]) -> str:
    """The strategy an entity loads with: the one chosen, else merge when it has a key."""
    if chosen:
        return chosen
    return LoadStrategy.MERGE if primary_key else LoadStrategy.FULL_REFRESH


def strategy_problem(
    strategy: str,
    *,
    entity: str,
    primary_key: list[str],
    watermark: str,
    attributes: list[str],
    referenced_by: list[str],
) -> str:
    """Why `strategy` cannot load `entity` ("" when it can)."""
    label = LoadStrategy(strategy).label
    if strategy in (LoadStrategy.MERGE, LoadStrategy.APPEND) and not primary_key:
        return f"{label} needs a primary key, and the contract gives {entity} none."
    if strategy == LoadStrategy.APPEND:
        if not watermark:
            return f"{label} needs a watermark: the attribute of {entity} that grows with new rows."
        if watermark not in attributes:
            return f"The watermark {watermark} is not an attribute of {entity}."
    if strategy == LoadStrategy.FULL_REFRESH and referenced_by:
        return (
            f"A full refresh deletes every row of {entity}, and {', '.join(referenced_by)} "
            "refer to them by foreign key: merge on the key instead."
        )
    return ""
