"""Ingest: papers in (PMC OA packages, PDFs, image folders + JSONL), documents and figures out."""
