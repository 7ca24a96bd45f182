"""Portfolio figures, model health and the HTML report for collection managers and analysts.

from regua.reports import aging_table, roll_rates, customer_buckets, observation_dates
aging = aging_table(tables, date(2026, 10, 30))            # tables: {name: frame}
rates = roll_rates(customer_buckets(tables, observation_dates(date(2026, 10, 30), 13)))

`regua report --as-of DATE` writes the whole report; the notebooks in notebooks/ call the
same functions one by one.
"""

from regua.reports.charts import (
    Chart,
    aging_chart,
    calibration_chart,
    limit_chart,
    payment_mix_chart,
    roll_rate_chart,
    score_chart,
    segment_chart,
    vintage_chart,
    workload_chart,
)
from regua.reports.decisions import (
    ladder_workload,
    limit_changes,
    limit_changes_by_band,
    limit_reason_counts,
    score_histogram,
    score_summary,
    segment_sizes,
)
from regua.reports.health import (
    champion_health,
    compare_evaluations,
    label_summary,
    labelled_scores,
    matured_as_of,
    model_health,
)
from regua.reports.portfolio import (
    BUCKETS,
    aging_table,
    customer_buckets,
    invoice_positions,
    observation_dates,
    payment_method_mix,
    payment_mix_table,
    portfolio_headline,
    roll_rate_matrix,
    roll_rates,
    vintage_curves,
    vintage_table,
)

__all__ = [
    "BUCKETS",
    "Chart",
    "aging_chart",
    "aging_table",
    "calibration_chart",
    "champion_health",
    "compare_evaluations",
    "customer_buckets",
    "invoice_positions",
    "label_summary",
    "labelled_scores",
    "ladder_workload",
    "limit_changes",
    "limit_changes_by_band",
    "limit_chart",
    "limit_reason_counts",
    "matured_as_of",
    "model_health",
    "observation_dates",
    "payment_method_mix",
    "payment_mix_chart",
    "payment_mix_table",
    "portfolio_headline",
    "roll_rate_chart",
    "roll_rate_matrix",
    "roll_rates",
    "score_chart",
    "score_histogram",
    "score_summary",
    "segment_chart",
    "segment_sizes",
    "vintage_chart",
    "vintage_curves",
    "vintage_table",
    "workload_chart",
]
