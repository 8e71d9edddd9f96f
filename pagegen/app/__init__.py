"""Glue between the Streamlit pages and the package: cached loaders and query-parameter state.

Kept here, not in ``pages/``, so the pages stay thin and everything they call is importable and
tested like the rest of ``pagegen``.
"""
