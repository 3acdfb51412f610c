"""The evidence base: published and users' studies in DuckDB, pooled, with predictions."""
