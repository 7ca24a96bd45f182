"""The Portuguese message templates, shipped as package data (regua.resources.templates)."""
