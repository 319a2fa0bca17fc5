"""The 假一赔十 claim: claims, evidence and their workflow, under a programme (qc_app.programmes).

Owns filing from the consumer's page, the merchant's answer, the admin's decision and payout.
"""
