"""dbt: the staging, intermediate and mart models as Dagster assets."""
