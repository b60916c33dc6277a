"""Staffing: interval volumes, forecasts and the agents each queue needs (Erlang C)."""
