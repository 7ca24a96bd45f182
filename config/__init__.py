"""The YAML configuration, shipped as package data (regua.resources.config)."""
