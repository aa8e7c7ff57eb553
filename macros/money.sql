{#-
    Exact money arithmetic. DuckDB divides DECIMALs into DOUBLE, which rounds
    half-cent ties the wrong way; these macros stay in integers.
-#}

{#- round(numerator / denominator, 2), half away from zero, exactly.
    numerator: a DECIMAL with at most 6 decimals; denominator: a positive integer. -#}
{% macro divide_to_cents(numerator, denominator) -%}
    {%- set wide = wide_integer_type() -%}
    cast(
        cast(
            (case when ({{ numerator }}) < 0 then -1 else 1 end) * {{ int_div(
                'abs(cast((' ~ numerator ~ ') * 1000000 as ' ~ wide ~ ')) * 200 + cast(' ~ denominator ~ ' as ' ~ wide ~ ') * 1000000',
                'cast(' ~ denominator ~ ' as ' ~ wide ~ ') * 2000000'
            ) }} as decimal(18, 0)
        ) * cast(0.01 as decimal(3, 2))
        as decimal(18, 2)
    )
{%- endmacro %}

{#- Round a DECIMAL to cents once, at the line (BILLING_RULES: rounded half-up at the line). -#}
{% macro to_cents(expression) -%}
    cast(round({{ expression }}, 2) as decimal(18, 2))
{%- endmacro %}

{#- Stable id of an invoice line: the same invoice, type and group always give the same id. -#}
{% macro invoice_line_id(invoice_id, line_type, line_group) -%}
    {{ invoice_id }} || '-' || substr(md5({{ line_type }} || '|' || coalesce({{ line_group }}, '')), 1, 10)
{%- endmacro %}

{#- "May 2026" -#}
{% macro month_label(date_expression) -%}
    {{ format_date(date_expression, '%B %Y') }}
{%- endmacro %}

{#- Calls of one usage line share its group: a destination and rate, a rate, or the plan's bundle
    (call_types.grouped_by_destination, rated_at_deck_rate). -#}
{% macro usage_line_group(call_type, destination, rate_per_minute) -%}
    case
        when {{ call_type }} in {{ call_types_where('grouped_by_destination') }}
            then {{ destination }} || '|' || cast({{ rate_per_minute }} as string)
        when {{ call_type }} in {{ call_types_where('rated_at_deck_rate') }}
            then cast({{ rate_per_minute }} as string)
        else 'plan'
    end
{%- endmacro %}
