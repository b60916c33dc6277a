{#- Incremental by customer (DECISIONS.md "The hierarchy is incremental by customer"). A customer's
    transactions, interactions and engagements depend only on that customer's transactions, so a nightly run
    rebuilds only the customers whose transactions changed. int_customer_fingerprints holds, per customer, a hash
    of every column of every one of its transactions; each model stores the fingerprint its rows were built from
    in _input_fingerprint. Before the model runs, its rows whose fingerprint no longer matches (the customer's
    transactions changed, or the customer key itself vanished when two customers merged) are deleted; the model
    then builds the customers that have no rows, and appends them. The state lives in the model's own table, so
    a run that fails half-way is repaired by the next one. -#}

{% macro customers_to_rebuild(customer_column, fingerprints='int_customer_fingerprints') -%}
{#- A filter on the model's input: on an incremental run, only customers whose current fingerprint has no rows
    in the model. `fingerprints` names the model holding each customer's current input_fingerprint. -#}
    {#- ref() outside the condition, so that dbt sees the dependency when it parses the model. -#}
    {%- do ref(fingerprints) -%}
    {%- if is_incremental() %}
    where {{ customer_column }} in ({{ customers_without_current_rows(fingerprints) }})
    {%- endif %}
{%- endmacro %}

{% macro customers_without_current_rows(fingerprints='int_customer_fingerprints') -%}
{#- The customers of `fingerprints` that have no rows in the model being built. Every model incremental by customer
    deletes in its pre-hook the rows built from a fingerprint that is no longer their customer's, so the rows left
    are current ones and the comparison is by key alone: the distinct keys of the model, where comparing key and
    fingerprint grouped every row of the history by both (DECISIONS.md "Customers to rebuild found by key"). -#}
        select fingerprints.customer_key
        from {{ ref(fingerprints) }} as fingerprints
        left join (select distinct customer_key from {{ this }}) as built
            on fingerprints.customer_key = built.customer_key
        where built.customer_key is null
{%- endmacro %}

{% macro delete_stale_customers(fingerprints='int_customer_fingerprints') -%}
{#- The pre-hook of a model incremental by customer: removes the rows built from a fingerprint that is no longer
    the customer's current one. -#}
    {%- if is_incremental() -%}
        {{ require_built_with('_input_fingerprint', 'it became incremental by customer') }}
    {{ return(adapter.dispatch('delete_stale_customers', 'contact_warehouse')(fingerprints)) }}
    {%- endif -%}
{%- endmacro %}

{% macro default__delete_stale_customers(fingerprints='int_customer_fingerprints') -%}
    delete from {{ this }}
    where not exists (
        select 1
        from {{ ref(fingerprints) }} as fingerprints
        where fingerprints.customer_key = {{ this }}.customer_key
            and fingerprints.input_fingerprint = {{ this }}._input_fingerprint
    )
{%- endmacro %}

{% macro customers_with_stale_fingerprint(fingerprints, stored_fingerprint, built=none) -%}
{#- The customers of the model being built whose stored _input_fingerprint is no longer `stored_fingerprint`, the
    form the model stores of their current `fingerprints.input_fingerprint` (a model that hashes a setting in too
    stores it with it), or whose key vanished in a merge: the rows a pre-hook deletes, compared once per customer.
    `built`: a relation of the model's distinct customer_key and _input_fingerprint, when the caller made one. -#}
        select built.customer_key
        from {{ built or '(select distinct customer_key, _input_fingerprint from ' ~ this ~ ')' }} as built
        left join {{ ref(fingerprints) }} as fingerprints
            on built.customer_key = fingerprints.customer_key
            and built._input_fingerprint = {{ stored_fingerprint }}
        where fingerprints.customer_key is null
{%- endmacro %}

{% macro delete_customers_whose_windows_moved() -%}
{#- fct_engagements' second pre-hook (DECISIONS.md "Engagements incremental by customer, judged against the
    data's end"). is_window_complete, closed_at, is_open_at_data_end and is_first_contact_resolved are judged
    against the data's end, which every night moves: a customer is rebuilt when one of its engagements' stored
    is_window_complete differs from what the data's end now says (the windows that ended during the new day, or
    any window when a correction moved the data's end back). The other rows are still what a full build gives. -#}
    {%- if is_incremental() %}
    delete from {{ this }}
    where exists (
        select 1
        from {{ this }} as engagements
        cross join ({{ data_end() }}) as data_window
        where engagements.customer_key = {{ this }}.customer_key
            and engagements.is_window_complete <> (engagements.window_ends_at <= data_window.data_end_at)
    )
    {%- endif %}
{%- endmacro %}

{% macro data_end() -%}
{#- The data's end that fct_engagements judges its windows against, and its pre-hook compares them with: one
    definition, so that the two cannot disagree. -#}
    select max(ended_at) as data_end_at from {{ ref('int_transactions_enriched') }}
{%- endmacro %}

{% macro require_built_with(column, since) -%}
{#- Stops an incremental run on a table built by an older version (it lacks `column`, added when `since`), with the
    command that rebuilds it. -#}
    {%- if column not in adapter.get_columns_in_relation(this) | map(attribute='name') | list -%}
        {{ exceptions.raise_compiler_error(
            this ~ " was built before " ~ since ~ " (it has no " ~ column ~ ")."
            ~ " Rebuild it once: `contact-warehouse run --full-refresh` (or dbt build --full-refresh).") }}
    {%- endif -%}
{%- endmacro %}

{% macro row_fingerprint(relation, exclude=[]) -%}
{#- A hash of every column of a row (but those in `exclude`), NULL told apart from every value. -#}
    {%- set columns = [] -%}
    {%- if execute -%}
        {%- for column in adapter.get_columns_in_relation(relation) if column.name not in exclude -%}
            {%- do columns.append(adapter.quote(column.name)) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(adapter.dispatch('row_fingerprint', 'contact_warehouse')(columns or ["''"])) }}
{%- endmacro %}

{% macro default__row_fingerprint(columns) -%}
    {%- set parts = [] -%}
    {%- for column in columns -%}
        {%- if parts %}{% do parts.append("'|'") %}{% endif -%}
        {%- do parts.append("coalesce(cast(" ~ column ~ " as " ~ dbt.type_string() ~ "), '<null>')") -%}
    {%- endfor -%}
    {{ dbt.hash(dbt.concat(parts)) }}
{%- endmacro %}

{% macro duckdb__row_fingerprint(columns) -%}
    {#- DuckDB's own 64-bit hash of the values: twelve times faster than MD5 over their text at 1 million events. -#}
    hash({{ columns | join(', ') }})
{%- endmacro %}

{% macro fingerprint_agg(row_fingerprint) -%}
{#- An order-independent hash of the row fingerprints of a group, as text. -#}
    {{ return(adapter.dispatch('fingerprint_agg', 'contact_warehouse')(row_fingerprint)) }}
{%- endmacro %}

{% macro default__fingerprint_agg(row_fingerprint) -%}
    {{ dbt.hash(ordered_listagg(row_fingerprint, "','", row_fingerprint)) }}
{%- endmacro %}

{% macro duckdb__fingerprint_agg(row_fingerprint) -%}
    {#- XOR of distinct 64-bit row hashes (each transaction is one row, with its own id), and the row count. -#}
    cast(bit_xor({{ row_fingerprint }}) as {{ dbt.type_string() }}) || ':' || cast(count(*) as {{ dbt.type_string() }})
{%- endmacro %}
