"""Example mapping profiles, shipped as package data (regua.resources.profiles)."""
