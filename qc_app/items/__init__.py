"""The item lifecycle: one physical piece from declaration to delivery or return.

Owns the item and its photos, the states, the transition table and its guards, the timeline,
and the item-level services (apply a transition, hold, release); other packages build on it.
"""
