{#- Incremental by customer (DECISIONS.md "The hierarchy is incremental by customer"). A customer's
    transactions, interactions and engagements depend only on that customer's transactions, so a nightly run
    rebuilds only the customers whose transactions changed. int_customer_fingerprints holds, per customer, a hash
    of every column of every one of its transactions; each model stores the fingerprint its rows were built from
    in _input_fingerprint. Before the model runs, its rows whose fingerprint no longer matches (the customer's
    transactions changed, or the customer key itself vanished when two customers merged) are deleted; the model
    then builds the customers that have no rows, and appends them. The state lives in the model's own table and in
    the table of the customers it holds (built_customers), written in the same transaction, so a run that fails
    half-way is repaired by the next one. -#}

{% macro customers_to_rebuild(customer_column, fingerprints='int_customer_fingerprints') -%}
{#- A filter on the model's input: on an incremental run, only customers whose current fingerprint has no rows
    in the model. `fingerprints` names the model holding each customer's current input_fingerprint. -#}
    {#- ref() outside the condition, so that dbt sees the dependency when it parses the model. -#}
    {%- do ref(fingerprints) -%}
    {%- if is_incremental() %}
    where {{ customer_column }} in ({{ customers_without_current_rows(fingerprints) }})
    {%- endif %}
{%- endmacro %}

{% macro built_customers(fingerprints='int_customer_fingerprints') -%}
{#- The customers a model incremental by customer holds, each with the fingerprint its rows were built from (one row
    a customer): the table `<model>__built_customers` beside `fingerprints`, which the model's post-hooks write in the
    model's own transaction (forget_stale_customers, record_rebuilt_customers), so that it always says what the
    model's table holds. The night compares it, a row a customer, with the fingerprints instead of grouping every row
    of the model by customer, twice (DECISIONS.md "The customers a model holds, kept beside it"). A unit test gives it
    as SQL (it overrides this macro). -#}
    {%- set beside = ref(fingerprints) -%}
    {{ return(api.Relation.create(database=beside.database, schema=beside.schema,
                                  identifier=this.identifier ~ '__built_customers')) }}
{%- endmacro %}

{% macro customers_without_current_rows(fingerprints='int_customer_fingerprints') -%}
{#- The customers of `fingerprints` that have no rows in the model being built: not among the customers it holds
    with their current fingerprint (built_customers). The pre-hook has deleted the rows of every customer held with
    another fingerprint (or whose key vanished in a merge), so these are the deleted ones and the new ones. -#}
        select fingerprints.customer_key
        from {{ ref(fingerprints) }} as fingerprints
        left join {{ built_customers(fingerprints) }} as built
            on fingerprints.customer_key = built.customer_key
            and fingerprints.input_fingerprint = built.input_fingerprint
        where built.customer_key is null
{%- endmacro %}

{% macro stale_built_customers(fingerprints='int_customer_fingerprints') -%}
{#- The customers the model holds with a fingerprint that is no longer their current one (their inputs changed, or
    their key vanished when two customers merged): a row a customer, read from built_customers. -#}
        select built.customer_key
        from {{ built_customers(fingerprints) }} as built
        left join {{ ref(fingerprints) }} as fingerprints
            on built.customer_key = fingerprints.customer_key
            and built.input_fingerprint = fingerprints.input_fingerprint
        where fingerprints.customer_key is null
{%- endmacro %}

{% macro delete_stale_customers(fingerprints='int_customer_fingerprints') -%}
{#- The pre-hook of a model incremental by customer: removes the rows of the customers it holds with a fingerprint
    that is no longer the customer's current one. -#}
    {%- if is_incremental() -%}
        {{ require_built_with('_input_fingerprint', 'it became incremental by customer') }}
        {{ require_built_customers(fingerprints) }}
    delete from {{ this }}
    where customer_key in ({{ stale_built_customers(fingerprints) }})
    {%- endif -%}
{%- endmacro %}

{% macro forget_stale_customers(fingerprints='int_customer_fingerprints') -%}
{#- The first post-hook of a model incremental by customer (one statement: Spark runs one a hook). On an incremental
    run: built_customers forgets the customers whose rows the pre-hook deleted. On a full build: the table is dropped,
    and made again by record_rebuilt_customers. Nothing where the model is a table on every run (Spark on Parquet). -#}
    {%- if incremental_or_table() == 'incremental' -%}
        {%- set built = built_customers(fingerprints) -%}
        {%- if is_incremental() %}
    delete from {{ built }}
    where not exists (
        select 1
        from {{ ref(fingerprints) }} as fingerprints
        where fingerprints.customer_key = {{ built }}.customer_key
            and fingerprints.input_fingerprint = {{ built }}.input_fingerprint
    )
        {%- else %}
    drop table if exists {{ built }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{% macro record_rebuilt_customers(fingerprints='int_customer_fingerprints') -%}
{#- The second post-hook: built_customers records the customers the model has just built, with the fingerprint they
    were built from: on an incremental run those it had no current rows of (the model's own filter,
    customers_without_current_rows, as forget_stale_customers leaves the table); on a full build every customer of
    `fingerprints` (the model read all of them). -#}
    {%- if incremental_or_table() == 'incremental' -%}
        {%- set built = built_customers(fingerprints) -%}
        {%- if is_incremental() %}
    insert into {{ built }} (customer_key, input_fingerprint)
    select fingerprints.customer_key, fingerprints.input_fingerprint
    from {{ ref(fingerprints) }} as fingerprints
    left join {{ built }} as built
        on fingerprints.customer_key = built.customer_key
        and fingerprints.input_fingerprint = built.input_fingerprint
    where built.customer_key is null
        {%- else %}
    create table {{ built }} as
    select customer_key, input_fingerprint from {{ ref(fingerprints) }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{% macro require_built_customers(fingerprints) -%}
{#- Stops an incremental run of a model whose built_customers table is missing (built before it was kept), with the
    command that rebuilds it. -#}
    {%- set built = built_customers(fingerprints) -%}
    {%- if execute and adapter.get_relation(built.database, built.schema, built.identifier) is none -%}
        {{ exceptions.raise_compiler_error(
            this ~ " has no " ~ built ~ " (the customers it holds, kept since the twelfth session)."
            ~ " Rebuild it once: `contact-warehouse run --full-refresh` (or dbt build --full-refresh).") }}
    {%- endif -%}
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

{% macro windows_moved_customers() -%}
{#- The customers of fct_engagements with an engagement whose stored is_window_complete differs from what the data's
    end now says (the windows that ended during the new day, or any window when a correction moved the data's end
    back). -#}
        select engagements.customer_key
        from {{ this }} as engagements
        cross join ({{ data_end() }}) as data_window
        where engagements.is_window_complete <> (engagements.window_ends_at <= data_window.data_end_at)
{%- endmacro %}

{% macro forget_customers_whose_windows_moved() -%}
{#- fct_engagements' second pre-hook: built_customers forgets the customers whose windows moved, so that the model
    rebuilds them (customers_without_current_rows), and the third pre-hook deletes their rows. -#}
    {%- if is_incremental() %}
        {%- set built = built_customers('int_engagement_fingerprints') %}
    delete from {{ built }}
    where customer_key in ({{ windows_moved_customers() }})
    {%- endif %}
{%- endmacro %}

{% macro delete_customers_whose_windows_moved() -%}
{#- fct_engagements' third pre-hook (DECISIONS.md "Engagements incremental by customer, judged against the
    data's end"). is_window_complete, closed_at, is_open_at_data_end and is_first_contact_resolved are judged
    against the data's end, which every night moves: a customer is rebuilt when one of its engagements' stored
    is_window_complete differs from what the data's end now says. The other rows are still what a full build
    gives. -#}
    {%- if is_incremental() %}
    delete from {{ this }}
    where customer_key in ({{ windows_moved_customers() }})
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
