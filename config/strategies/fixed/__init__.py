"""The `fixed` strategy: the single ladder the simulated lender runs today."""
