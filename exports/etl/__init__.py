"""Generated ETL: SQL from sqlglot trees, the dbt project, the Airflow DAG, the job design."""
