"""The batch stage: pages for many users at once, on worker processes or a Ray cluster (``engines``),
precomputed into partitioned Parquet (``export``) and summed up for the dashboard (``summary``)."""
