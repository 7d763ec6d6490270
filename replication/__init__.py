"""The replication harness: published numbers, run records, result checker, reports."""
