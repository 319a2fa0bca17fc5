"""Certificates: the signed payload, Ed25519 keys, the PDF CA, issuance, batches, revocation.

Owns issuance and the signing keys; the public side lives in qc_app.verification.
"""
