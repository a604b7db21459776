"""Graph passes: one module per pass; the order lives in mo.pipeline."""
