{#- Normalising what a switch writes into the call shape of stg_landing__cdrs (rules R-CDR). The
    staging model of each platform (models/staging/switches/) names its own columns; these are the
    rules they share. -#}

{#- R-CDR-2, for one local hour `hour_local` of a switch's `zone`: the UTC time of its start as first
    occurring. Null for an hour the zone skips. Zones move their clocks at the start of an hour, so
    an hour's offset holds for each second of it: int_switch_calls converts each distinct hour once
    and each record by a join. -#}
{% macro hour_first_utc(hour_local, zone) -%}
    case
        when {{ utc_to_local(local_to_utc(hour_local, zone), zone) }} <> {{ hour_local }} then null
        {# the same local time an hour earlier in UTC: the repeated hour #}
        when {{ utc_to_local(add_seconds(local_to_utc(hour_local, zone), -3600), zone) }} = {{ hour_local }}
            then {{ add_seconds(local_to_utc(hour_local, zone), -3600) }}
        else {{ local_to_utc(hour_local, zone) }}
    end
{%- endmacro %}

{#- Whether an hour's local times happen twice (the hour repeated when daylight time ends). -#}
{% macro hour_is_repeated(hour_first_utc, hour_local, zone) -%}
    coalesce({{ utc_to_local(add_seconds(hour_first_utc, 3600), zone) }} = {{ hour_local }}, false)
{%- endmacro %}

{#- The UTC time of a local time `first_utc` first occurring in a repeated hour: the second
    occurrence when only from it does the record's talk time (`seconds`) end at its end time. -#}
{% macro repeated_hour_utc(first_utc, end_local, seconds, zone) -%}
    case
        when {{ utc_to_local(add_seconds(first_utc, seconds), zone) }} <> {{ end_local }}
            and {{ utc_to_local(add_seconds(first_utc, seconds ~ ' + 3600'), zone) }} = {{ end_local }}
            then {{ add_seconds(first_utc, 3600) }}
        else {{ first_utc }}
    end
{%- endmacro %}

{#- R-CDR-3: a number as a NANP switch (US, CA) has it, in E.164; an extension (2-6 digits) as it is;
    null when empty or when it cannot be normalised. `is_digits`: the number is digits, with a
    leading + at most (dialled_is_digits); the rest is told by lengths and prefixes. -#}
{% macro dialled_is_digits(number) -%}
    coalesce({{ matches_fully(number, '[+]?[0-9]+') }}, false)
{%- endmacro %}

{% macro e164_from_dialled(number, is_digits) -%}
    case
        when not {{ is_digits }} then null
        when {{ number }} like '+%' then
            case when length({{ number }}) between 3 and 16 and substr({{ number }}, 2, 1) <> '0' then {{ number }} end
        when length({{ number }}) between 2 and 6 then {{ number }}
        when length({{ number }}) = 10 and substr({{ number }}, 1, 1) not in ('0', '1') then '+1' || {{ number }}
        when length({{ number }}) = 11 and substr({{ number }}, 1, 1) = '1' and substr({{ number }}, 2, 1) not in ('0', '1')
            then '+' || {{ number }}
        when {{ number }} like '011%' and length({{ number }}) between 5 and 18 and substr({{ number }}, 4, 1) <> '0'
            then '+' || substr({{ number }}, 4)
    end
{%- endmacro %}

{% macro is_extension(number, is_digits) -%}
    ({{ is_digits }} and {{ number }} not like '+%' and length({{ number }}) between 2 and 6)
{%- endmacro %}

{% macro number_problem(number, e164, role) -%}
    case
        when {{ number }} is not null and {{ e164 }} is null
            then '{{ role }} ' || {{ number }} || ' is neither a number (10 digits, 1 + 10 digits, 011 + an '
                || 'international number, + E.164) nor an extension (2 to 6 digits)'
    end
{%- endmacro %}

{#- R-CDR-5: inbound when the record's context is one of the switch's inbound contexts; extension
    to extension internal; everything else outbound. -#}
{% macro switch_call_direction(context, inbound_contexts, source_is_extension, destination_is_extension) -%}
    case
        when instr(';' || coalesce({{ inbound_contexts }}, '') || ';', ';' || {{ context }} || ';') > 0 then 'inbound'
        when {{ source_is_extension }} and {{ destination_is_extension }} then 'internal'
        else 'outbound'
    end
{%- endmacro %}
