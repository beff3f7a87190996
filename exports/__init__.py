"""Deliverables: the Excel specification, generated ETL, test runs, the Unit Test Package, KT docs."""
