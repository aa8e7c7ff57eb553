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
