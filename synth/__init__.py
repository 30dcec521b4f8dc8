"""Synthetic, exactly labelled training data: notebooks, documents, plates, lines."""
