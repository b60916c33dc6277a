"""The cockpit report: a self-contained static HTML page drawn from the serving file's marts."""

from contact_warehouse.report.render import render_report

__all__ = ["render_report"]
