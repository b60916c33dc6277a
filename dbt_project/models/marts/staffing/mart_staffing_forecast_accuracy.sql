-- The forecast's rolling-origin backtest per voice queue (docs/staffing.md): the best candidate's and the weekly
-- seasonal naive's WAPE and MASE, the model the forecast uses, and whether it beat the baseline.
select distinct
    cast(interval_minutes as integer) as interval_minutes,
    cast('voice' as {{ dbt.type_string() }}) as channel,
    cast(queue as {{ dbt.type_string() }}) as queue,
    cast(chosen_model as {{ dbt.type_string() }}) as chosen_model,
    cast(best_candidate as {{ dbt.type_string() }}) as best_candidate,
    cast(beats_baseline as boolean) as beats_baseline,
    cast(chosen_wape as {{ type_double() }}) as chosen_wape,
    cast(candidate_wape as {{ type_double() }}) as candidate_wape,
    cast(baseline_wape as {{ type_double() }}) as baseline_wape,
    cast(chosen_mase as {{ type_double() }}) as chosen_mase,
    cast(candidate_mase as {{ type_double() }}) as candidate_mase,
    cast(baseline_mase as {{ type_double() }}) as baseline_mase,
    cast(backtest_windows as integer) as backtest_windows,
    cast(history_days as integer) as history_days,
    cast(note as {{ dbt.type_string() }}) as note
from {{ ref('int_staffing_forecast') }}
