"""Segments, dunning ladders, contact guardrails and credit-limit recommendations."""
