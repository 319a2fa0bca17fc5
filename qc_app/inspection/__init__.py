"""Testing bodies, analysts' inspections and the reviewer's four-eyes approval.

Owns measurements, the rules engine's judgement of them, and the review decision.
"""
