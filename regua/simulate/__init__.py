"""A realistic simulated Brazilian credit portfolio, with the ground truth that generated it.

`simulate_portfolio(SimulationConfig(customers=..., months=..., seed=...), out_dir)` writes
the raw exports regua ingests (customers, invoices, payments, contacts, macro and the
dated customer_attributes; Parquet or CSV in an English or Brazilian ERP dialect) and
`truth/truth.parquet`, one row per customer and month-end with the latent risk and the
exact probabilities the generative model implies (see regua.simulate.truth). Same
config, same bytes.
"""

from regua.simulate.config import SimulationConfig, SimulationSummary
from regua.simulate.portfolio import simulate_portfolio

__all__ = ["SimulationConfig", "SimulationSummary", "simulate_portfolio"]
