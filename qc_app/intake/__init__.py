"""Consignments (送检单) and items: the item lifecycle from declaration to delivery or return.

Owns the declarative item workflow (workflow.py, guards.py) and warehouse intake.
"""
