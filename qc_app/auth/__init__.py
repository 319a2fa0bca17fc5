"""Who may do what: users and roles, argon2id passwords, server-side sessions, API tokens.

Owns login, logout, token issue and the role decorators used by every non-public route.
"""
