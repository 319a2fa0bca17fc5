"""Listings (商品): what a merchant sells, with the declared material the items must match.

Owns listings, their labels and title check, and the link to their items and certificates.
"""
