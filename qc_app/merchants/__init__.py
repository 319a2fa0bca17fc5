"""Merchants (商家): the shops that send items in and sell them with the 鉴定验真 labels.

Owns the merchant record, the rights centre (权益中心) and programme membership periods.
"""
