"""Routing exports: the recommendations of the serving file as CSV files a routing engine imports."""

from .export import CUSTOMER_ROUTING_CSV, ROUTING_CSV, export_routing_csv

__all__ = ["CUSTOMER_ROUTING_CSV", "ROUTING_CSV", "export_routing_csv"]
