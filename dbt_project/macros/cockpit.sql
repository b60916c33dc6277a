{#- Shared building blocks of the cockpit marts: reporting dates, period roll-ups and safe rates. -#}

{% macro convert_from_utc(timestamp_expression, timezone_expression) -%}
    {{ return(adapter.dispatch('convert_from_utc', 'contact_warehouse')(timestamp_expression, timezone_expression)) }}
{%- endmacro %}

{% macro default__convert_from_utc(timestamp_expression, timezone_expression) -%}
    from_utc_timestamp({{ timestamp_expression }}, {{ timezone_expression }})
{%- endmacro %}

{% macro duckdb__convert_from_utc(timestamp_expression, timezone_expression) -%}
    {#- Timestamps are stored as UTC without zone; the connection's TimeZone is UTC (profiles.yml). -#}
    timezone({{ timezone_expression }}, cast({{ timestamp_expression }} as timestamptz))
{%- endmacro %}

{% macro reporting_date(timestamp_expression) -%}
    {#- The calendar date of a UTC timestamp in var('reporting_timezone'). -#}
    {%- if var('reporting_timezone') | upper == 'UTC' -%}
        cast({{ timestamp_expression }} as date)
    {%- else -%}
        cast({{ convert_from_utc(timestamp_expression, "'" ~ var('reporting_timezone') ~ "'") }} as date)
    {%- endif -%}
{%- endmacro %}

{% macro check_reporting_timezone() -%}
    {#- on-run-start: a misspelt var('reporting_timezone') fails the run at once, naming the setting, instead of
        failing the first model that converts a timestamp halfway through the build. -#}
    {{ return(adapter.dispatch('check_reporting_timezone', 'contact_warehouse')()) }}
{%- endmacro %}

{% macro default__check_reporting_timezone() -%}
    {#- Other databases report an unknown zone themselves, in the first model that uses it. -#}
    select 1
{%- endmacro %}

{% macro duckdb__check_reporting_timezone() -%}
    {%- set zone = var('reporting_timezone') -%}
    {%- if execute and zone | upper != 'UTC' -%}
        {%- set known = run_query(
            "select count(*) from pg_timezone_names() where name = '" ~ (zone | replace("'", "''")) ~ "'"
        ).columns[0].values()[0] -%}
        {%- if known == 0 -%}
            {{ exceptions.raise_compiler_error(
                "var reporting_timezone: '" ~ zone ~ "' is not an IANA time zone name (e.g. America/New_York, "
                ~ "Europe/Berlin, UTC); set it in dbt_project/dbt_project.yml or --vars.") }}
        {%- endif -%}
    {%- endif -%}
    select 1
{%- endmacro %}

{% macro safe_ratio(numerator, denominator) -%}
    case when {{ denominator }} > 0 then cast({{ numerator }} as {{ type_double() }}) / {{ denominator }} end
{%- endmacro %}

{% macro fcr_status(closed, open_, resolution_unknown, engagements, window_closes_on) -%}
    {#- Why a period's FCR is what it is, beside the rate (NULL for several reasons): 'ok'; 'provisional: window
        closes D' (a rate, but engagements of the period are still inside their window); 'not yet mature: window
        closes D' (no engagement closed yet: D is when the last one closes); 'no resolution data' (the exports do
        not say whether the first contact resolved the problem); 'no eligible contacts' (unknown intent, outbound
        only); 'no engagements' (a row of interactions only). -#}
    case
        when {{ closed }} > 0 and {{ open_ }} = 0 then 'ok'
        when {{ closed }} > 0
            then {{ dbt.concat([
                "'provisional: window closes '", "cast(" ~ window_closes_on ~ " as " ~ dbt.type_string() ~ ")"
            ]) }}
        when {{ open_ }} > 0
            then {{ dbt.concat([
                "'not yet mature: window closes '", "cast(" ~ window_closes_on ~ " as " ~ dbt.type_string() ~ ")"
            ]) }}
        when {{ resolution_unknown }} > 0 then 'no resolution data'
        when {{ engagements }} > 0 then 'no eligible contacts'
        else 'no engagements'
    end
{%- endmacro %}

{% macro period_rollup(daily_relation, dimensions, measures, date_column='activity_date', with_total=false) -%}
    {#- Re-aggregates a daily table of additive counts to day, week (Monday) and month, and with_total to one
        'all' period starting on the first date of the data. Every measure must be a sum-able count or total, so
        any rate computed afterwards is exact at every grain. Measures are summed as bigint; name a type after a
        colon for others ('compound_sum:double'), and an aggregate after a second colon for a measure that is not
        a sum ('fcr_window_closes_on:date:max'). -#}
    {%- set grains = [('day', date_column),
                      ('week', 'cast(' ~ dbt.date_trunc('week', date_column) ~ ' as date)'),
                      ('month', 'cast(' ~ dbt.date_trunc('month', date_column) ~ ' as date)')] -%}
    {%- if with_total %}{% do grains.append(('all', none)) %}{% endif -%}
    {%- for grain, period_expression in grains %}
    select
        '{{ grain }}' as period_grain,
        {% if period_expression is none -%}
        (select min({{ date_column }}) from {{ daily_relation }})
        {%- else %}{{ period_expression }}{% endif %} as period_start,
        {%- for dimension in dimensions %}
        {{ dimension }},
        {%- endfor %}
        {%- for measure in measures %}
        {%- set parts = measure.split(':') %}
        {%- set type_name = parts[1] if parts | length > 1 else 'bigint' %}
        cast({{ parts[2] if parts | length > 2 else 'sum' }}({{ parts[0] }})
            as {{ type_double() if type_name == 'double' else type_name }}) as {{ parts[0] }}
        {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ daily_relation }}
    {%- if period_expression is none %}
    {%- if dimensions %}
    group by {{ dimensions | join(', ') }}
    {%- endif %}
    {%- else %}
    group by {{ period_expression }}{% for dimension in dimensions %}, {{ dimension }}{% endfor %}
    {%- endif %}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
{%- endmacro %}

{% macro wilson_bound(successes, trials, side) -%}
    {#- The Wilson score interval's lower or upper bound (side) of successes / trials at
        var('coaching_confidence_z') standard errors; NULL without trials. A small sample gives a wide interval,
        so a rate on a handful of contacts cannot be told apart from the team's. -#}
    {%- set z = var('coaching_confidence_z') -%}
    {%- set p = 'cast(' ~ successes ~ ' as ' ~ type_double() ~ ') / ' ~ trials -%}
    case when {{ trials }} > 0 then
        ({{ p }} + {{ z }} * {{ z }} / (2.0 * {{ trials }})
            {{ '-' if side == 'lower' else '+' }} {{ z }} * sqrt(
                {{ p }} * (1 - {{ p }}) / {{ trials }} + {{ z }} * {{ z }} / (4.0 * {{ trials }} * {{ trials }})
            ))
        / (1 + {{ z }} * {{ z }} / {{ trials }})
    end
{%- endmacro %}

{% macro coaching_flag(successes, trials, rate, team_rate, worse) -%}
    {#- The agent scorecard's one coaching rule: the agent's rate (successes / trials) is worse than the team's
        (worse = 'lower' or 'higher') by more than var('coaching_rate_gap'), rests on at least
        var('coaching_min_sample') contacts, and its Wilson interval leaves the team's rate out. -#}
    coalesce(
        {{ trials }} >= {{ var('coaching_min_sample') }}
        {% if worse == 'lower' -%}
        and {{ rate }} < {{ team_rate }} - {{ var('coaching_rate_gap') }}
        and {{ wilson_bound(successes, trials, 'upper') }} < {{ team_rate }},
        {%- else -%}
        and {{ rate }} > {{ team_rate }} + {{ var('coaching_rate_gap') }}
        and {{ wilson_bound(successes, trials, 'lower') }} > {{ team_rate }},
        {%- endif %}
        false
    )
{%- endmacro %}

{% macro leg_handle_seconds() -%}
    {#- An answered call leg's handle time, one definition for every mart that counts it (AHT, occupancy, coaching,
        routing): talk (answered to end, or nothing when the end is missing) + hold + wrap seconds. Only meaningful
        where answered_at is not null; the caller says what an unanswered leg counts. -#}
    {{ seconds_between('answered_at', 'coalesce(ended_at, answered_at)') }}
    + coalesce(hold_seconds, 0) + coalesce(wrap_seconds, 0)
{%- endmacro %}

{% macro engagement_media() -%}
    {#- The media an engagement's channels belong to: the IVR and the agent leg of a call are one voice medium, the
        bot and the agent parts of a chat one chat. The channels are those fct_transactions' test allows (its
        `channel = case transaction_type ...` expression); fct_engagements' test `channels_outside_media` fails on a
        channel_path naming any other, so a new channel cannot be miscounted here without a failing test. -#}
    {{ return([['ivr', 'voice'], ['chat'], ['sms'], ['faq'], ['form'], ['email']]) }}
{%- endmacro %}

{% macro media_in_path(channel_path) -%}
    {#- How many media an engagement used, from its channel_path (fct_engagements: the channels of its transactions
        in order, ' > ' between them, each channel at least once), by engagement_media. -#}
    {%- for channels in engagement_media() %}
    {% if not loop.first %}+ {% endif -%}
    (case when {% for channel in channels -%}
        {% if not loop.first %} or {% endif -%}
        ({{ dbt.concat(["' > '", channel_path, "' > '"]) }}) like '% > {{ channel }} > %'
    {%- endfor %} then 1 else 0 end)
    {%- endfor %}
{%- endmacro %}

{% macro channels_outside_media(channel_path) -%}
    {#- What is left of a channel_path once every channel of engagement_media is taken out: '' when the path names
        only those channels. Each channel is first given its own separators (' > ivr >  > voice > '), so that one
        replace() takes out every occurrence of a channel, repeated ones included. -#}
    {%- set ns = namespace(expression=dbt.concat(["' > '", "replace(" ~ channel_path ~ ", ' > ', ' >  > ')", "' > '"])) -%}
    {%- for channels in engagement_media() -%}
        {%- for channel in channels -%}
            {%- set ns.expression = "replace(" ~ ns.expression ~ ", ' > " ~ channel ~ " > ', '')" -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ ns.expression }}
{%- endmacro %}
