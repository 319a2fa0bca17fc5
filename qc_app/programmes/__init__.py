"""Guarantee programmes (假一赔十, 安心购 退一赔三, …) as data: their terms and who is covered.

Owns the programme rows, choosing one for a listing or an order, and `coverage.decide`; claims,
listings, orders and the consumer page build on it.
"""
