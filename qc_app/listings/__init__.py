"""Listings (商品): what a merchant sells, with the declared material the items must match.

Owns listing creation and the link from listings to their items and certificates.
"""
