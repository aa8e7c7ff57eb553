"""The CDR files phone switches write, one format entry per platform (CDR_FORMATS.md, rules R-CDR).

A switch's files land byte for byte into raw.<platform>_cdrs (callbill/landing/land.py): the columns
as the switch names them, every value as text. A new platform is one entry here and one staging
model (models/staging/switches/stg_<platform>__cdrs.sql).
"""

from __future__ import annotations

from dataclasses import dataclass

# The times both platforms write: the switch's clock, to the second, no zone (R-CDR-2). Landing
# checks the form by GLOB (a fraction of a regular expression's cost), then the cast rejects a
# month 13 or an hour 25.
SWITCH_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
SWITCH_TIME_GLOB = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9]"


@dataclass(frozen=True)
class SwitchFormat:
    platform: str
    source: str  # where the platform's settings and writer are documented
    layouts: dict[int, tuple[str, ...]]  # fields of a record -> their names, as the switch writes them
    times: tuple[str, ...]  # columns in SWITCH_TIME; empty is allowed unless required
    required: tuple[str, ...]
    integers: tuple[str, ...]
    answer_time: str
    # SQL over one record: the switch's own id of it (R-CDR-6) and whether the call was answered (R-CDR-1)
    record_id: str
    answered: str

    @property
    def columns(self) -> tuple[str, ...]:
        """The raw table's columns: those of the longest layout (a shorter one leaves the rest empty)."""
        return self.layouts[max(self.layouts)]

    def describe_layouts(self) -> str:
        return " or ".join(str(n) for n in sorted(self.layouts))


ASTERISK_16 = (
    "accountcode",
    "src",
    "dst",
    "dcontext",
    "clid",
    "channel",
    "dstchannel",
    "lastapp",
    "lastdata",
    "start_time",  # `start`, `answer`, `end` in cdr_csv.c (`end` is an SQL keyword)
    "answer_time",
    "end_time",
    "duration",
    "billsec",
    "disposition",
    "amaflags",
)

FREESWITCH_EXAMPLE = (
    "caller_id_name",
    "caller_id_number",
    "destination_number",
    "context",
    "start_stamp",
    "answer_stamp",
    "end_stamp",
    "duration",
    "billsec",
    "hangup_cause",
    "uuid",
    "bleg_uuid",
    "accountcode",
    "read_codec",
    "write_codec",
)

SWITCH_FORMATS: dict[str, SwitchFormat] = {
    "asterisk": SwitchFormat(
        platform="asterisk",
        source="Asterisk cdr_csv (cdr/cdr_csv.c build_csv_record)",
        # loguniqueid and loguserfield add uniqueid and userfield
        layouts={16: ASTERISK_16, 18: (*ASTERISK_16, "uniqueid", "userfield")},
        times=("start_time", "answer_time", "end_time"),
        required=("start_time", "end_time", "duration", "billsec", "disposition"),
        integers=("duration", "billsec"),
        answer_time="answer_time",
        # without loguniqueid: the channel and its start identify the record
        record_id="coalesce(uniqueid, channel || '@' || start_time)",
        answered="disposition = 'ANSWERED'",
    ),
    "freeswitch": SwitchFormat(
        platform="freeswitch",
        source="FreeSWITCH mod_cdr_csv, vanilla `example` template",
        layouts={15: FREESWITCH_EXAMPLE},
        times=("start_stamp", "answer_stamp", "end_stamp"),
        required=("start_stamp", "end_stamp", "duration", "billsec", "uuid"),
        integers=("duration", "billsec"),
        answer_time="answer_stamp",
        record_id="uuid",
        answered="answer_stamp is not null",
    ),
}
