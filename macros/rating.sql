{#- R-RATE-2 / R-RATE-3: billed seconds of a call: nothing for a call that did not connect, the
    initial period for a short call, then whole increments (integer ceiling, no floats). -#}
{% macro billable_seconds(duration, initial, increment) -%}
    case
        when {{ duration }} <= 0 then 0
        when {{ duration }} <= {{ initial }} then {{ initial }}
        else {{ initial }}
            + {{ int_div(duration ~ ' - ' ~ initial ~ ' + ' ~ increment ~ ' - 1', increment) }} * {{ increment }}
    end
{%- endmacro %}

{#- The landed calls a close bills: those of the unpublished months being built (R-CAL-3) and those
    that landed after their month was published (late, R-LATE-1), all landed by the close's landing
    time. int_calls_classified rates them; fct_unbilled_calls lists those no invoice bills. -#}
{% macro calls_to_bill() -%}
    select
        candidates.*,
        published_months.calls_landed_through is not null
            and candidates.landed_at > published_months.calls_landed_through as is_late
    from (
        select
            calls.*,
            -- R-CAL-3: a call is billed on the invoice of the month after it started.
            {{ first_of_next_month('calls.start_time_utc') }} as natural_invoice_date
        from {{ ref('int_calls_landed') }} as calls
        -- Every call the build sees landed by this time (publication records it, R-LATE-1): a
        -- landing that runs during the close waits for the next one.
        cross join {{ ref('int_calls_landed_through') }} as landed_through
        where calls.landed_at <= landed_through.calls_landed_through
    ) as candidates
    left join {{ source('published', 'invoice_months') }} as published_months
        on candidates.natural_invoice_date = published_months.invoice_date
    -- a published month's calls were rated when it was published and never change (R-INV-2)
    where (
            candidates.natural_invoice_date between {{ invoice_month_start() }} and {{ invoice_month_end() }}
            and published_months.invoice_date is null
        )
        or candidates.landed_at > published_months.calls_landed_through
{%- endmacro %}

{#- The invoice month each call of `calls` (calls_to_bill's columns) is billed in: its natural month,
    or, for a late call, the month it was published on (R-INV-2) or else the account's next
    unpublished invoice (R-LATE-1). With_published_flag adds is_published_late (the rating's bundle
    draw sorts every column, so it goes without). -#}
{% macro route_calls(calls, with_published_flag=false) -%}
    select
        {{ calls }}.*,
        {%- if with_published_flag %}
        published_late_calls.call_id is not null as is_published_late,
        {%- endif %}
        case
            when not {{ calls }}.is_late then {{ calls }}.natural_invoice_date
            when published_late_calls.call_id is not null then published_late_calls.invoice_date
            else account_publication.next_unpublished_invoice_date
        end as billed_invoice_date
    from {{ calls }}
    left join (
        select call_id, invoice_date from {{ source('published', 'rated_calls') }} where is_late
    ) as published_late_calls
        on {{ calls }}.is_late and {{ calls }}.call_id = published_late_calls.call_id
    left join {{ ref('int_account_publication') }} as account_publication
        on {{ calls }}.account_id = account_publication.account_id
{%- endmacro %}
