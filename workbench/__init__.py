"""The analysts' workbench: a server-rendered web app over the night's outputs and the decisions."""
