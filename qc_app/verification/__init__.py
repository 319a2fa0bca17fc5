"""The public side of a certificate: the page a consumer reaches by QR or number + check code.

Owns the verdict shown (valid / revoked / not found / forged code); no login.
"""
