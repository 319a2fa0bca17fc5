"""Consignments (送检单) and warehouse intake: declaring items, receiving and scanning them.

Builds on qc_app.items for the item lifecycle; owns consignments, the intake terminal and the
merchant's CSV import.
"""
