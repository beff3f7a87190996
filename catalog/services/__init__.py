"""Writes of the catalog: source systems and their catalog (`sources`), the connection to a Mart
(`connection`), reading its structure (`introspection`), profiling its data (`profiling`), and
DDL / CSV imports (`ddl_import`)."""
