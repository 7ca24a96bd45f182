"""Prefect flows: wiring and I/O only; the logic lives in regua, features, models and dunning."""
