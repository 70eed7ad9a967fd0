site-name = Tenderflow
language = Language
language-name = English
footer = Open procurement and partner recruitment
board-title = Notice board
board-lead = Announcements of open procedures: read the notice, then submit a bid before the deadline.
board-empty = No procedure has been announced yet.
board-caption = Procedures, those still open first
col-title = Procedure
col-buyer = Procuring entity
col-procedure = Procedure type
col-deadline = Bid deadline
col-status = Status
published = Announced
announcement = Announcement
amendments = Clarifications and amendments
questions = Questions and answers
opening = Opening
bids-received = Bids received
bid-tenderer = Bidder
bid-received = Received
bid-valid = Valid
bid-disqualified = Disqualified
award = Award
award-rank = Candidate
award-supplier = Organisation
award-value = Price
ocds-record = The open contracting record (OCDS) of this procedure
not-found = No such notice
internal-error = Something went wrong; it has been logged
back-to-board = Back to the notice board
closed = closed
closes-in = closes in { $days } { $days ->
        [one] day
       *[other] days
    } { $hours } { $hours ->
        [one] hour
       *[other] hours
    }
zone-beijing = China Standard Time
method-open = Open
method-selective = Selective
method-limited = Limited
method-direct = Direct award
method-other = Other
status-planning = Planned
status-active = Open for bids
status-complete = Awarded
status-cancelled = Cancelled
status-unsuccessful = Unsuccessful
status-withdrawn = Withdrawn
status-other = Other
month-1 = January
month-2 = February
month-3 = March
month-4 = April
month-5 = May
month-6 = June
month-7 = July
month-8 = August
month-9 = September
month-10 = October
month-11 = November
month-12 = December
