"""Captions: the four texts per image (summary, report, region phrase, hard negatives)."""
