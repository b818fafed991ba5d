"""Evaluation of trained checkpoints: retrieval R@K per level, zero-shot AUC on labelled folders."""
