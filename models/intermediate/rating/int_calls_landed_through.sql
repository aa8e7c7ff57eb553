-- The latest landing the close builds from: classification reads no call landed after it, and
-- publication records it as the month's `calls_landed_through` (R-LATE-1), so a landing that runs
-- while the month closes is billed by the next close, never twice and never lost.
select max(landed_at) as calls_landed_through
from {{ ref('int_calls_landed') }}
