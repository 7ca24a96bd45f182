"""Data shipped with the package: `config` (YAML) and `templates` (message texts)."""
