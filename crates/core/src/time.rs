//! Time as data: timestamps, periods in calendar or working days, and holiday calendars.
//!
//! The core never reads a clock. Every function here is pure; `now` always arrives as an
//! argument. Calendar days (日) and working days (工作日) are different units and never mix
//! silently: a [`Period`] carries its unit and a [`Calendar`] says which days are working days.

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;

/// An instant, UTC, with second precision at the API edge (RFC 3339 in JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(DateTime<Utc>);

impl Timestamp {
    /// 1970-01-01T00:00:00Z.
    pub const EPOCH: Self = Self(DateTime::<Utc>::UNIX_EPOCH);

    /// Parses an RFC 3339 timestamp such as `2026-03-01T09:00:00+08:00`.
    pub fn parse(s: &str) -> Option<Self> {
        DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|d| Self(d.with_timezone(&Utc)))
    }

    /// The instant `secs` seconds after the Unix epoch.
    pub fn from_unix(secs: i64) -> Option<Self> {
        Utc.timestamp_opt(secs, 0).single().map(Self)
    }

    /// The instant `ms` milliseconds after the Unix epoch.
    pub fn from_unix_millis(ms: i64) -> Option<Self> {
        DateTime::<Utc>::from_timestamp_millis(ms).map(Self)
    }

    /// Seconds since the Unix epoch.
    pub fn unix(self) -> i64 {
        self.0.timestamp()
    }

    /// Milliseconds since the Unix epoch.
    pub fn unix_millis(self) -> i64 {
        self.0.timestamp_millis()
    }

    /// This instant moved by `secs` seconds (saturating at the representable range).
    pub fn plus_seconds(self, secs: i64) -> Self {
        Duration::try_seconds(secs)
            .and_then(|d| self.0.checked_add_signed(d))
            .map(Self)
            .unwrap_or(self)
    }

    /// RFC 3339 text in UTC.
    pub fn to_rfc3339(self) -> String {
        self.0.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

/// The unit of a [`Period`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodUnit {
    /// 日: every day counts.
    CalendarDays,
    /// 工作日: only the calendar's working days count.
    WorkingDays,
    /// Hours, for procedures that count in hours (urgency, objections on the spot).
    Hours,
}

impl PeriodUnit {
    /// The unit as written in definitions.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CalendarDays => "calendar_days",
            Self::WorkingDays => "working_days",
            Self::Hours => "hours",
        }
    }
}

/// A length of time in a stated unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Period {
    /// How many units.
    pub amount: u32,
    /// Which unit.
    pub unit: PeriodUnit,
}

/// The longest period the engine accepts; longer ones are a definition error, which also keeps
/// working-day arithmetic bounded.
pub const MAX_PERIOD_DAYS: u32 = 3660;

impl Period {
    /// A period of `amount` calendar days.
    pub const fn calendar_days(amount: u32) -> Self {
        Self {
            amount,
            unit: PeriodUnit::CalendarDays,
        }
    }

    /// A period of `amount` working days.
    pub const fn working_days(amount: u32) -> Self {
        Self {
            amount,
            unit: PeriodUnit::WorkingDays,
        }
    }

    /// Fewest calendar days this period can span (working days are at least as long).
    pub fn min_calendar_days(self) -> f64 {
        match self.unit {
            PeriodUnit::CalendarDays | PeriodUnit::WorkingDays => f64::from(self.amount),
            PeriodUnit::Hours => f64::from(self.amount) / 24.0,
        }
    }

    /// Most calendar days this period can span, ignoring public holidays (five working days a
    /// week). Used only to find contradictions between constraints.
    pub fn max_calendar_days(self) -> f64 {
        match self.unit {
            PeriodUnit::CalendarDays => f64::from(self.amount),
            PeriodUnit::WorkingDays => (f64::from(self.amount) * 7.0 / 5.0).ceil() + 2.0,
            PeriodUnit::Hours => f64::from(self.amount) / 24.0,
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = match self.unit {
            PeriodUnit::CalendarDays => "calendar days",
            PeriodUnit::WorkingDays => "working days",
            PeriodUnit::Hours => "hours",
        };
        write!(f, "{} {unit}", self.amount)
    }
}

/// Which days are working days, and in which time zone days begin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Calendar {
    /// Offset of local time from UTC in minutes (480 for China Standard Time).
    #[serde(default)]
    pub utc_offset_minutes: i32,
    /// ISO weekdays that are rest days (6 = Saturday, 7 = Sunday).
    #[serde(default = "default_weekend")]
    pub weekend: BTreeSet<u8>,
    /// Public holidays (rest days even on a weekday).
    #[serde(default)]
    pub holidays: BTreeSet<NaiveDate>,
    /// Make-up working days (调休: working days even on a weekend).
    #[serde(default)]
    pub workdays: BTreeSet<NaiveDate>,
}

fn default_weekend() -> BTreeSet<u8> {
    [6, 7].into_iter().collect()
}

impl Default for Calendar {
    fn default() -> Self {
        Self {
            utc_offset_minutes: 0,
            weekend: default_weekend(),
            holidays: BTreeSet::new(),
            workdays: BTreeSet::new(),
        }
    }
}

impl Calendar {
    fn offset(&self) -> FixedOffset {
        FixedOffset::east_opt(self.utc_offset_minutes.saturating_mul(60))
            .unwrap_or_else(|| FixedOffset::east_opt(0).expect("zero offset is valid"))
    }

    /// The local date of `at` (`YYYY-MM-DD` when displayed).
    pub fn local_date(&self, at: Timestamp) -> NaiveDate {
        at.0.with_timezone(&self.offset()).date_naive()
    }

    /// The instant local `date` begins.
    pub fn start_of(&self, date: NaiveDate) -> Timestamp {
        let local = date.and_hms_opt(0, 0, 0).unwrap_or_default();
        match self.offset().from_local_datetime(&local).single() {
            Some(d) => Timestamp(d.with_timezone(&Utc)),
            None => Timestamp(Utc.from_utc_datetime(&local)),
        }
    }

    /// Whether `date` (local) is a working day.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        if self.workdays.contains(&date) {
            return true;
        }
        if self.holidays.contains(&date) {
            return false;
        }
        let weekday = date.weekday().number_from_monday() as u8;
        !self.weekend.contains(&weekday)
    }

    /// `start` moved forward by `period`. Working days count from the next local day and keep
    /// the local time of day. Returns `None` when the result is out of range or the calendar
    /// has no working day within [`MAX_PERIOD_DAYS`] × 2 days.
    pub fn add(&self, start: Timestamp, period: Period) -> Option<Timestamp> {
        match period.unit {
            PeriodUnit::Hours => {
                let d = Duration::try_hours(i64::from(period.amount))?;
                start.0.checked_add_signed(d).map(Timestamp)
            }
            PeriodUnit::CalendarDays => {
                let d = Duration::try_days(i64::from(period.amount))?;
                start.0.checked_add_signed(d).map(Timestamp)
            }
            PeriodUnit::WorkingDays => {
                let local = start.0.with_timezone(&self.offset());
                let mut date = local.date_naive();
                let mut left = period.amount;
                let mut steps = 0u32;
                while left > 0 {
                    date = date.succ_opt()?;
                    steps += 1;
                    if steps > MAX_PERIOD_DAYS * 2 {
                        return None;
                    }
                    if self.is_working_day(date) {
                        left -= 1;
                    }
                }
                let naive = date.and_time(local.time());
                self.offset()
                    .from_local_datetime(&naive)
                    .single()
                    .map(|d| Timestamp(d.with_timezone(&Utc)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        Timestamp::parse(s).expect("valid timestamp")
    }

    #[test]
    fn calendar_days_are_plain_days() {
        let cal = Calendar::default();
        let t = cal.add(ts("2026-01-01T09:00:00Z"), Period::calendar_days(20));
        assert_eq!(t, Some(ts("2026-01-21T09:00:00Z")));
    }

    #[test]
    fn working_days_skip_weekends_holidays_and_honour_makeup_days() {
        let mut cal = Calendar {
            utc_offset_minutes: 480,
            ..Calendar::default()
        };
        // Friday 2026-01-02 09:00 +08:00; five working days later is Friday 2026-01-09.
        let start = ts("2026-01-02T09:00:00+08:00");
        assert_eq!(
            cal.add(start, Period::working_days(5)),
            Some(ts("2026-01-09T09:00:00+08:00"))
        );
        cal.holidays
            .insert(NaiveDate::from_ymd_opt(2026, 1, 5).expect("date"));
        assert_eq!(
            cal.add(start, Period::working_days(5)),
            Some(ts("2026-01-12T09:00:00+08:00"))
        );
        cal.workdays
            .insert(NaiveDate::from_ymd_opt(2026, 1, 3).expect("date"));
        assert_eq!(
            cal.add(start, Period::working_days(5)),
            Some(ts("2026-01-09T09:00:00+08:00"))
        );
    }

    #[test]
    fn a_calendar_without_working_days_gives_none_instead_of_looping() {
        let cal = Calendar {
            weekend: (1..=7).collect(),
            ..Calendar::default()
        };
        assert_eq!(
            cal.add(ts("2026-01-01T00:00:00Z"), Period::working_days(1)),
            None
        );
    }
}
