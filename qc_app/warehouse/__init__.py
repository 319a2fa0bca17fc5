"""The warehouse floor's shared machinery: one-time scan tokens, mass checks and alarms.

Intake and the packing station use it; the dashboard reads the alarms it records.
"""
