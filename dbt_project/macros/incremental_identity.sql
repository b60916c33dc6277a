{#- Identity resolution incremental by record, by identifier and by component (DECISIONS.md "Identity resolution
    incremental by record, identifier and component"). int_identifier_occurrences keeps, per record, the identifiers
    of its latest staging row and that row's _load_seq; int_identifiers_classified keeps, per identifier, a
    fingerprint of the versions of its records and recomputes the identifiers whose fingerprint changed;
    int_identity_components recomputes only the components such a change can reach. -#}

{% macro identity_records() -%}
{#- The staging model and key column of every record type that carries identifiers (int_identifier_occurrences). -#}
    {{ return([
        ('crm_customer', 'stg_crm__customers', 'customer_ref'),
        ('call_leg', 'stg_phone_system__calls', 'call_id'),
        ('sms', 'stg_phone_system__sms_messages', 'message_id'),
        ('survey', 'stg_phone_system__survey_answers', 'response_id'),
        ('faq_view', 'stg_help_center__faq_views', 'view_id'),
        ('chat', 'stg_chat__conversations', 'conversation_id'),
        ('form', 'stg_forms__submissions', 'response_id'),
        ('ticket', 'stg_tickets__tickets', 'ticket_id'),
    ]) }}
{%- endmacro %}

{% macro delete_redelivered_records() -%}
{#- Pre-hook of int_identifier_occurrences: deletes the identifiers of every record that a load after the model's
    newest one delivered again, so that the model's run (new loads only) writes the record's latest identifiers and
    none of the earlier version's. The watermark the model reads after this delete can be lower than the one used
    here: a record of a load in between then has no row left (every kept row is at or below the new watermark, and
    a record's rows carry its staging row's load), so reading it again writes its rows once. -#}
    {%- if is_incremental() %}
        {{ require_built_with('_record_identifiers', 'it became incremental by record') }}
        delete from {{ this }}
        where exists (
            select 1
            from (
                {%- for record_type, model, key in identity_records() %}
                {% if not loop.first %}union all {% endif -%}
                select '{{ record_type }}' as record_type, {{ key }} as record_id
                from {{ ref(model) }}
                where _load_seq > (select coalesce(max(_load_seq), 0) from {{ this }})
                {%- endfor %}
            ) as redelivered
            where redelivered.record_type = {{ this }}.record_type and redelivered.record_id = {{ this }}.record_id
        )
    {%- endif %}
{%- endmacro %}

{% macro record_identifiers(columns) -%}
{#- A hash of a staging row's identifier columns (int_identifier_occurrences._record_identifiers): what the record
    says about identity. A re-delivery that repeats them (the CRM export is a whole snapshot every day) leaves it
    unchanged, so it changes no identifier's fingerprint. -#}
    {{ return(adapter.dispatch('row_fingerprint', 'contact_warehouse')(columns)) }}
{%- endmacro %}

{% macro identifier_fingerprints(occurrences) -%}
{#- Per identifier of `occurrences` (a relation or CTE shaped as int_identifier_occurrences), a fingerprint of the
    records that carry it and of what each says about identity (_record_identifiers). A record's change of
    identifiers or of customer_ref changes the fingerprint of every identifier it carries, before and after (the one
    it lost included: one record fewer). -#}
    {#- The setting the rows depend on is part of it: changing it recomputes every identifier. -#}
    select
        identifier_node,
        {{ dbt.concat([
            "'max_customers_per_identifier=" ~ var('max_customers_per_identifier') ~ ":'",
            fingerprint_agg(adapter.dispatch('row_fingerprint', 'contact_warehouse')(
                ['record_type', 'record_id', '_record_identifiers']))]) }} as input_fingerprint
    from {{ occurrences }}
    group by identifier_node
{%- endmacro %}

{% macro component_fingerprint(classified) -%}
{#- What an identifier's component depends on near it: the versions of its records, and whether it is blocked. -#}
    {{ classified }}._input_fingerprint || case when {{ classified }}.is_blocked then ':blocked' else ':usable' end
{%- endmacro %}

{% macro delete_changed_identifiers() -%}
{#- Pre-hook of int_identifiers_classified: deletes the rows of identifiers whose records changed (or that are gone);
    the model then computes the identifiers that have no row. -#}
    {%- if is_incremental() %}
        {{ require_built_with('_input_fingerprint', 'identity resolution became incremental') }}
        delete from {{ this }}
        where not exists (
            select 1
            from ({{ identifier_fingerprints(ref('int_identifier_occurrences')) }}) as fingerprints
            where fingerprints.identifier_node = {{ this }}.identifier_node
                and fingerprints.input_fingerprint = {{ this }}._input_fingerprint
        )
    {%- endif %}
{%- endmacro %}

{% macro delete_touched_components() -%}
{#- Pre-hook of int_identity_components: deletes every component that holds an identifier whose component
    fingerprint changed (or that is new, or gone), or that shares a record with one (an identifier blocked or
    unblocked cuts or makes the links of records that did not change). The model then computes the components of
    the identifiers that have no row: every link of such an identifier leads to another identifier without a row, so
    they form whole components of today's graph. -#}
    {%- if is_incremental() %}
        {{ require_built_with('_input_fingerprint', 'identity resolution became incremental') }}
        {{ require_built_with('_computed_at', 'int_records_customers became incremental by record') }}
        delete from {{ this }}
        where component_label in (
            with current_fingerprints as (
                select identifier_node, {{ component_fingerprint('classified') }} as input_fingerprint
                from {{ ref('int_identifiers_classified') }} as classified
            ),

            changed as (
                select coalesce(current_fingerprints.identifier_node, built.identifier_node) as identifier_node
                from current_fingerprints
                full outer join {{ this }} as built
                    on current_fingerprints.identifier_node = built.identifier_node
                where
                    current_fingerprints.identifier_node is null
                    or built.identifier_node is null
                    or current_fingerprints.input_fingerprint <> built._input_fingerprint
            ),

            changed_records as (
                select distinct occurrences.record_type, occurrences.record_id
                from {{ ref('int_identifier_occurrences') }} as occurrences
                inner join changed on occurrences.identifier_node = changed.identifier_node
            ),

            touched as (
                select identifier_node from changed
                union
                select occurrences.identifier_node
                from {{ ref('int_identifier_occurrences') }} as occurrences
                inner join changed_records
                    on occurrences.record_type = changed_records.record_type
                    and occurrences.record_id = changed_records.record_id
            )

            select built.component_label
            from {{ this }} as built
            inner join touched on built.identifier_node = touched.identifier_node
        )
    {%- endif %}
{%- endmacro %}

{% macro identity_run_marker() -%}
{#- When this dbt invocation started, as a timestamp: int_identity_components._computed_at, the run that computed a
    component's rows (later runs start later). -#}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp)
{%- endmacro %}

{% macro records_of_recomputed_components() -%}
{#- int_records_customers' records to rebuild: those carrying an identifier whose component int_identity_components
    computed after the model's newest row (_components_computed_at, the newest component of a record when its row
    was built). No other record's customer can have changed: a record's new, lost or corrected identifiers, an
    identifier blocked or unblocked, a merge or a split all change the fingerprint of an identifier of the record,
    and int_identity_components then computes again the whole component of every identifier of that record.
    Read after the pre-hook's delete, the newest row can be older than before it: every record of a component
    computed after that older row then had its row deleted (its row was at least as new as the component, or it
    was built before it, when the newest row was older still), so no record is built twice. -#}
    select distinct occurrences.record_type, occurrences.record_id
    from {{ ref('int_identifier_occurrences') }} as occurrences
    inner join {{ ref('int_identity_components') }} as components
        on occurrences.identifier_node = components.identifier_node
    where components._computed_at > (
        select coalesce(max(_components_computed_at), cast('1900-01-01 00:00:00' as timestamp)) from {{ this }}
    )
{%- endmacro %}

{% macro delete_records_of_recomputed_components() -%}
{#- Pre-hook of int_records_customers: deletes the rows of the records to rebuild (records_of_recomputed_components),
    and of the records re-delivered by a load after the newest one the model's rows were built with
    (_newest_load_seq) that have no identifier left (a correction that removed the last one: such a record has no
    occurrence to find it by, and no row in a full build). A re-delivered record that still has identifiers has
    occurrences of its new load. -#}
    {%- if is_incremental() %}
        {{ require_built_with('_components_computed_at', 'it became incremental by record') }}
        delete from {{ this }}
        where exists (
            select 1
            from (
                {{ records_of_recomputed_components() }}
                union all
                select record_type, record_id
                from (
                    {%- for record_type, model, key in identity_records() %}
                    {% if not loop.first %}union all {% endif -%}
                    select '{{ record_type }}' as record_type, {{ key }} as record_id
                    from {{ ref(model) }}
                    where _load_seq > (select coalesce(max(_newest_load_seq), 0) from {{ this }})
                    {%- endfor %}
                    except
                    select record_type, record_id
                    from {{ ref('int_identifier_occurrences') }}
                    where _load_seq > (select coalesce(max(_newest_load_seq), 0) from {{ this }})
                ) as without_identifiers
            ) as stale
            where stale.record_type = {{ this }}.record_type and stale.record_id = {{ this }}.record_id
        )
    {%- endif %}
{%- endmacro %}
