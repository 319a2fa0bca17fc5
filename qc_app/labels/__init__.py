"""Labels (标签): item labels for the parcel a merchant sends in (PDF for thermal printers and
A4 sheets, ZPL for Zebra printers) and the consignment packing list.

Rendering only: these modules take plain data and return bytes; they never query or sign.
"""
