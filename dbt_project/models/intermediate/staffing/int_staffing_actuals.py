"""Every interval that happened (mart_staffing_queue_intervals, 15 and 30 minutes) with the agents Erlang C needed
for its offered calls and AHT at the queue's target, and the service level it expected from the agents who
handled calls there. The logic is the library's (contact_warehouse/staffing/plan.py), wired once in
contact_warehouse/engine/python_models.py, which the Python step also runs on the other engines."""


def model(dbt, session):
    from contact_warehouse.engine.python_models import Params, staffing_actuals

    dbt.config(materialized="table")
    inputs = {
        "mart_staffing_queue_intervals": dbt.ref("mart_staffing_queue_intervals"),
        "int_queue_service_levels": dbt.ref("int_queue_service_levels"),
    }
    return staffing_actuals(inputs, Params())
