"""Listings (商品): what a merchant sells, with the declared material the items must match.

Owns listings, their labels (with their periods) and title check; the listing page's item
results are intake's (intake.results), which reads inspections and certificates.
"""
