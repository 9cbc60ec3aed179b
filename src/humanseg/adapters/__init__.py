"""Front ends for hosting platforms, each a thin adapter over the core pipeline."""
