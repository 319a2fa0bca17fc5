"""Consignments (送检单) and warehouse intake: declaring items, receiving and scanning them.

Builds on qc_app.items for the item lifecycle; owns consignments, the intake terminal, the
merchant's CSV import, and a listing's items with their results (intake.results).
"""
