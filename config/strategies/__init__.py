"""Strategy folders (segments.yaml and ladders.yaml), shipped as package data."""
