"""The JSON API under /api/v1 for the platform's systems and scanner apps.

Bearer tokens only, JSON errors, and the OpenAPI document that describes it.
"""
