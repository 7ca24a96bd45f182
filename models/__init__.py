"""Labels, training, calibration, evaluation, explanations and the model registry."""
