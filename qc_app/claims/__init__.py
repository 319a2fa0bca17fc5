"""The 假一赔十 claim: programmes (the guarantee as data), claims, evidence and their workflow.

Owns filing from the consumer's page, the merchant's answer, the admin's decision and payout.
"""
