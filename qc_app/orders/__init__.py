"""Orders from the platform: binding a certified item to an order, packing and shipping.

Owns the packing station's check that item, certificate, order and listing belong together.
"""
