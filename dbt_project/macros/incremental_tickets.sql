{#- The help desk's models incremental by ticket (DECISIONS.md "The help desk's models incremental by ticket (issue
    22, tickets, 4 December, tenth session)"). A ticket's comments, requests and timings depend only on that ticket's
    staging rows (its row, comments and status changes), and the timings also on the business calendar and the
    schedules (tickets_timed_global_inputs) and, for a ticket still unanswered and unsolved, on the data's end. Each
    model stores on every row the newest ticket load it was built from (_newest_load_seq): the next night's watermark.
    The pre-hook deletes the rows of every ticket a night can change; the model then builds the current tickets that
    have no rows (which also repairs a run that failed between the delete and the append). -#}

{% macro tickets_newest_load() -%}
{#- The newest load of the ticket staging rows the models are built from (_newest_load_seq). -#}
    (select max(load_seq) from (
        select max(_load_seq) as load_seq from {{ ref('stg_tickets__tickets') }}
        union all
        select max(_load_seq) from {{ ref('stg_tickets__messages') }}
        union all
        select max(_load_seq) from {{ ref('stg_tickets__status_changes') }}
    ) as loads)
{%- endmacro %}

{% macro tickets_watermark() -%}
    (select coalesce(max(_newest_load_seq), 0) from {{ this }})
{%- endmacro %}

{% macro tickets_changed_since(watermark) -%}
{#- The tickets whose staging rows a load after `watermark` carries (a ticket re-delivered brings its status changes
    with it), and the ticket a re-delivered comment had before (read from the raw table at or below the watermark):
    a comment moved to another ticket changes both. -#}
        select ticket_id from {{ ref('stg_tickets__tickets') }} where _load_seq > {{ watermark }}
        union
        select ticket_id from {{ ref('stg_tickets__messages') }} where _load_seq > {{ watermark }}
        union
        select ticket_id from {{ ref('stg_tickets__status_changes') }} where _load_seq > {{ watermark }}
        union
        select earlier.ticket_id
        from {{ source('tickets', 'ticket_comments') }} as earlier
        where earlier._load_seq <= {{ watermark }} and earlier.comment_id in (
            select message_id from {{ ref('stg_tickets__messages') }} where _load_seq > {{ watermark }}
        )
{%- endmacro %}

{% macro delete_changed_tickets(also=none) -%}
{#- Pre-hook of a model incremental by ticket: deletes the rows of the tickets changed since the stored rows were
    built, and the rows matching `also` (a condition on the stored row: what else a night can change). A run that
    failed after this delete leaves the same or an older watermark, so the next one deletes at least as much. -#}
    {%- if is_incremental() %}
        {{ require_built_with('_newest_load_seq', 'it became incremental by ticket') }}
    delete from {{ this }}
    where ticket_id in ({{ tickets_changed_since(tickets_watermark()) }})
    {%- if also %}
    or ({{ also }})
    {%- endif %}
    {%- endif %}
{%- endmacro %}

{% macro tickets_to_build(current) -%}
{#- The model's first CTE (with its comma) on an incremental run: the current tickets (those of the relation
    `current`) that have no rows, the pre-hook having deleted those a night can change. Read by ticket id alone (no
    watermark), it also repairs a run that failed between the delete and the append. -#}
    {%- if is_incremental() %}
tickets_to_build as (
    select distinct ticket_id from {{ current }}
    except
    select distinct ticket_id from {{ this }}
),
    {%- endif %}
{%- endmacro %}

{% macro only_tickets_to_build(column) -%}
{#- A filter on the model's input: on an incremental run, the tickets of tickets_to_build. -#}
    {%- if is_incremental() %}
    where {{ column }} in (select ticket_id from tickets_to_build)
    {%- endif %}
{%- endmacro %}

{% macro tickets_timed_global_inputs() -%}
{#- What every ticket's timings depend on besides the ticket: the schedule of each group and the business calendar's
    opening intervals (seeds and vars). Stored on every row (_global_inputs); a change rebuilds every row. -#}
    {{ dbt.concat([
        "'schedules='",
        "(select " ~ fingerprint_agg(row_fingerprint(ref('int_queue_schedules'))) ~ " from "
            ~ ref('int_queue_schedules') ~ ")",
        "';intervals='",
        "(select " ~ fingerprint_agg(row_fingerprint(ref('int_business_hours_intervals'))) ~ " from "
            ~ ref('int_business_hours_intervals') ~ ")",
    ]) }}
{%- endmacro %}
