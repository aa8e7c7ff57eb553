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

{#- The invoice a routed call is rated on: its account's invoice of the month the call routes to
    (int_calls_to_bill), from the account's billing start (R-START-2/3). int_calls_rated rates the
    calls that have one, int_rating_inputs fingerprints the same calls, fct_unbilled_calls lists the
    calls that have none. -#}
{% macro call_on_its_invoice(calls, invoices) -%}
    {{ calls }}.account_id = {{ invoices }}.account_id
        and {{ calls }}.billed_invoice_date = {{ invoices }}.invoice_date
        and {{ calls }}.start_time_utc >= {{ invoices }}.billing_start_date
{%- endmacro %}
