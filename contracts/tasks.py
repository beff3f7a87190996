"""Celery job runners of contracts (see workbench.jobs).

None yet: an import of the largest contract we plan for (200 entities × 100 attributes) takes a
few seconds (bench/bench_contracts.py), so imports run in the request and answer at once with the
draft or with the exact refusal, inline.
"""
