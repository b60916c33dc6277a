-- The forecast's rolling-origin backtest per voice queue (docs/staffing.md): the best candidate's and the weekly
-- seasonal naive's WAPE and MASE, the model the forecast uses, and whether it beat the baseline. Every row of
-- int_staffing_forecast carries its queue's backtest: one row per queue, typed to the contract
-- (_staffing__models.yml).
select distinct
    {{ contract_columns({'channel': "'voice'"}) }}
from {{ python_model_ref('int_staffing_forecast') }}
