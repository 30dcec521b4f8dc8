"""End-to-end OCR: detection + recognition + reading order.

Kept import-light: heavy modules (torch, ultralytics) load only when a stage is built.
"""

__version__ = "0.1.0"
