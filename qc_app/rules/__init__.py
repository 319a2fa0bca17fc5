"""The material rules engine: measurements in, certificate name and pass/fail verdict out.

Rules are versioned data (rules/data/*.json) plus small pure functions; no I/O besides loading.
"""
