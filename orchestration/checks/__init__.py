"""Great Expectations audits of the agreed definitions, as Dagster asset checks."""
