"""Every interval that happened (mart_staffing_queue_intervals, 15 and 30 minutes) with the agents Erlang C needed
for its offered calls and AHT at the queue's target, and the service level it expected from the agents who
handled calls there. The logic is the library's (contact_warehouse/staffing/plan.py)."""


def model(dbt, session):
    from contact_warehouse.staffing.plan import required_for_actuals

    dbt.config(materialized="table")
    intervals = dbt.ref("mart_staffing_queue_intervals").df()
    targets = dbt.ref("int_queue_service_levels").df()
    return required_for_actuals(intervals, targets)
