"""The platform's dashboard: items per state, throughput, pass rates, turnaround, alarms.

Aggregates in SQL on SQLite and PostgreSQL; charts are inline SVG from a pure module.
"""
