//! One way to present each kind of fact people read, shared by every presenter (pages, PDF,
//! mail, CSV) and both languages: parties by their names, money as the currency's amount
//! (exact, never a float), times in the tender's zone as people read them, shares and
//! scores with their units, yes and no in words, the definition's texts in the reader's
//! language.

use crate::definition::{CriterionSource, Localized, Workflow};
use crate::numbers::{Money, Score, Weight};
use crate::time::Timestamp;
use std::collections::BTreeMap;

/// The languages people read Tenderflow in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Language {
    /// Simplified Chinese (`zh-CN`), the default.
    #[default]
    Zh,
    /// English (`en`).
    En,
}

impl Language {
    /// The language of a tag (`en…` is English, anything else Chinese).
    pub fn of(tag: &str) -> Self {
        if tag.to_ascii_lowercase().starts_with("en") {
            Self::En
        } else {
            Self::Zh
        }
    }

    /// Its BCP 47 tag.
    pub fn tag(self) -> &'static str {
        match self {
            Self::Zh => "zh-CN",
            Self::En => "en",
        }
    }

    /// A definition's text in this language.
    pub fn text(self, t: &Localized) -> &str {
        match self {
            Self::Zh => &t.zh_cn,
            Self::En => &t.en,
        }
    }
}

/// Names of the parties a record mentions, by id: organisations and people by their
/// registered names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Names(BTreeMap<String, String>);

impl Names {
    /// No names known.
    pub const fn new() -> Self {
        Self(BTreeMap::new())
    }

    /// Knows `id` as `name`.
    pub fn insert(&mut self, id: impl Into<String>, name: impl Into<String>) {
        self.0.insert(id.into(), name.into());
    }

    /// The name of `id`, if known.
    pub fn get(&self, id: &str) -> Option<&str> {
        self.0.get(id).map(String::as_str)
    }
}

impl FromIterator<(String, String)> for Names {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

/// The digits of `n` grouped by thousands (`128452` → `128,452`).
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// How one reader is shown facts: in their language, in the tender's time zone and currency,
/// with the parties' names.
#[derive(Debug, Clone, Copy)]
pub struct Presenter<'a> {
    /// The reader's language.
    pub lang: Language,
    /// The tender's time zone, minutes east of UTC.
    pub utc_offset_minutes: i32,
    /// The currency of its prices (ISO 4217).
    pub currency: &'a str,
    /// The parties' names.
    pub names: &'a Names,
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

impl Presenter<'_> {
    /// An amount as the currency's amount: `128,452.00 元` / `¥128,452.00` for yuan, the
    /// ISO code beside the amount for any other currency.
    pub fn money(&self, m: Money) -> String {
        let minor = m.minor().unsigned_abs();
        let amount = format!("{}.{:02}", grouped(minor / 100), minor % 100);
        match (self.currency, self.lang) {
            ("CNY", Language::Zh) => format!("{amount} 元"),
            ("CNY", Language::En) => format!("¥{amount}"),
            ("EUR", Language::En) => format!("€{amount}"),
            (code, Language::Zh) => format!("{amount} {code}"),
            (code, Language::En) => format!("{code} {amount}"),
        }
    }

    /// The tender's zone as people name it (`北京时间`, `China Standard Time`, `UTC+01:00`).
    pub fn zone(&self) -> String {
        zone(self.lang, self.utc_offset_minutes)
    }

    /// A date and time in the tender's zone, with the zone: `2026年1月6日 13:25 北京时间`,
    /// `6 January 2026, 13:25 China Standard Time`.
    pub fn time(&self, t: Timestamp) -> String {
        local_time(self.lang, self.utc_offset_minutes, t)
    }

    /// A date in the tender's zone: `2026年1月6日`, `6 January 2026`.
    pub fn date(&self, t: Timestamp) -> String {
        local_date(self.lang, self.utc_offset_minutes, t)
    }

    /// A party by its registered name; the id where no name is known.
    pub fn party<'n>(&'n self, id: &'n str) -> &'n str {
        self.names.get(id).unwrap_or(id)
    }

    /// Yes or no, in words.
    pub fn yes_no(&self, b: bool) -> &'static str {
        match (b, self.lang) {
            (true, Language::Zh) => "是",
            (false, Language::Zh) => "否",
            (true, Language::En) => "yes",
            (false, Language::En) => "no",
        }
    }

    /// A score as people read it: two decimals (`87.35`).
    pub fn score(&self, s: Score) -> String {
        let raw = s.raw();
        let hundredths = crate::numbers::div_round(i128::from(raw), 100);
        let sign = if hundredths < 0 { "-" } else { "" };
        let a = hundredths.unsigned_abs();
        format!("{sign}{}.{:02}", a / 100, a % 100)
    }

    /// A weight as a percentage (`0.3500` → `35 %`, `0.125` → `12.5 %`).
    pub fn weight(&self, w: Weight) -> String {
        percent_of_raw(w.raw() * 100)
    }

    /// A figure in per cent as people read it (`55.1 %`); a figure that is not a number is
    /// shown as it is.
    pub fn percent(&self, v: &serde_json::Value) -> String {
        match Weight::from_json(v) {
            Some(w) => percent_of_raw(w.raw()),
            None => v.as_str().map(str::to_owned).unwrap_or_default(),
        }
    }

    /// A definition's text in the reader's language.
    pub fn text<'t>(&self, t: &'t Localized) -> &'t str {
        self.lang.text(t)
    }

    /// A state of `wf` by its title; the id when the definition has no such state.
    pub fn state<'w>(&self, wf: &'w Workflow, id: &'w str) -> &'w str {
        wf.definition()
            .states
            .iter()
            .find(|s| s.id == id)
            .map_or(id, |s| self.text(&s.title))
    }

    /// A gate of `wf` by its title; the id when the definition has no such gate.
    pub fn gate<'w>(&self, wf: &'w Workflow, id: &'w str) -> &'w str {
        wf.gate(id).map_or(id, |g| self.text(&g.title))
    }

    /// A criterion of `wf` by its title; the id when the definition has no such criterion.
    pub fn criterion<'w>(&self, wf: &'w Workflow, id: &'w str) -> &'w str {
        wf.definition()
            .evaluation
            .criteria
            .iter()
            .find(|c| &*c.id == id)
            .map_or(id, |c| self.text(&c.title))
    }

    /// What a figure read out at the opening is (the bid field a ratio criterion scores, by
    /// that criterion's title), and the figure with its unit.
    pub fn read_out<'w>(
        &self,
        wf: &'w Workflow,
        field: &'w str,
        value: &serde_json::Value,
    ) -> (&'w str, String) {
        let criterion =
            wf.definition().evaluation.criteria.iter().find(
                |c| matches!(&c.source, CriterionSource::BidRatio { field: f } if f == field),
            );
        match criterion {
            Some(c) => (self.text(&c.title), self.percent(value)),
            None => (field.trim_start_matches('/'), self.percent(value)),
        }
    }
}

/// A zone `offset` minutes east of UTC as people name it (`北京时间`, `China Standard
/// Time`, `UTC+01:00`).
pub fn zone(lang: Language, offset: i32) -> String {
    match (offset, lang) {
        (480, Language::Zh) => "北京时间".to_owned(),
        (480, Language::En) => "China Standard Time".to_owned(),
        _ => format!(
            "UTC{}{:02}:{:02}",
            if offset < 0 { '-' } else { '+' },
            offset.abs() / 60,
            offset.abs() % 60
        ),
    }
}

/// (year, month 1–12, day, "HH:MM") of `t` in a zone `offset` minutes east of UTC.
fn local(offset: i32, t: Timestamp) -> Option<(u32, usize, u32, String)> {
    let text = t.plus_seconds(i64::from(offset) * 60).to_rfc3339();
    let num = |a: usize, b: usize| text.get(a..b).and_then(|s| s.parse::<u32>().ok());
    let (y, m, d) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let m = usize::try_from(m).ok().filter(|m| (1..=12).contains(m))?;
    Some((y, m, d, text.get(11..16)?.to_owned()))
}

/// `t` as people read it in a zone `offset` minutes east of UTC, with the zone:
/// `2026年1月6日 13:25 北京时间`, `6 January 2026, 13:25 China Standard Time`.
pub fn local_time(lang: Language, offset: i32, t: Timestamp) -> String {
    let Some((y, m, d, hm)) = local(offset, t) else {
        return t.to_rfc3339();
    };
    let zone = zone(lang, offset);
    match lang {
        Language::Zh => format!("{y}年{m}月{d}日 {hm} {zone}"),
        Language::En => format!("{d} {} {y}, {hm} {zone}", MONTHS[m - 1]),
    }
}

/// The date of `t` in a zone `offset` minutes east of UTC: `2026年1月6日`, `6 January 2026`.
pub fn local_date(lang: Language, offset: i32, t: Timestamp) -> String {
    let Some((y, m, d, _)) = local(offset, t) else {
        return t.to_rfc3339();
    };
    match lang {
        Language::Zh => format!("{y}年{m}月{d}日"),
        Language::En => format!("{d} {} {y}", MONTHS[m - 1]),
    }
}

/// A fixed-point value (× 10 000) as a percentage with no trailing zeros.
fn percent_of_raw(raw: i64) -> String {
    let sign = if raw < 0 { "-" } else { "" };
    let a = raw.unsigned_abs();
    let whole = a / 10_000;
    let frac = format!("{:04}", a % 10_000);
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() {
        format!("{sign}{whole} %")
    } else {
        format!("{sign}{whole}.{frac} %")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn presenter(lang: Language, names: &Names) -> Presenter<'_> {
        Presenter {
            lang,
            utc_offset_minutes: 480,
            currency: "CNY",
            names,
        }
    }

    #[test]
    fn money_reads_as_the_currency_amount() {
        let names = Names::new();
        let m = Money::from_minor(12_845_200).expect("money");
        assert_eq!(presenter(Language::Zh, &names).money(m), "128,452.00 元");
        assert_eq!(presenter(Language::En, &names).money(m), "¥128,452.00");
        let small = Money::from_minor(5).expect("money");
        assert_eq!(presenter(Language::Zh, &names).money(small), "0.05 元");
        let eur = Presenter {
            currency: "EUR",
            ..presenter(Language::Zh, &names)
        };
        assert_eq!(
            eur.money(Money::from_minor(100_000_000).expect("m")),
            "1,000,000.00 EUR"
        );
    }

    #[test]
    fn times_read_in_the_tenders_zone() {
        let names = Names::new();
        let t = Timestamp::parse("2026-01-06T05:25:15Z").expect("time");
        assert_eq!(
            presenter(Language::Zh, &names).time(t),
            "2026年1月6日 13:25 北京时间"
        );
        assert_eq!(
            presenter(Language::En, &names).time(t),
            "6 January 2026, 13:25 China Standard Time"
        );
        let late = Timestamp::parse("2026-12-31T20:00:00Z").expect("time");
        assert_eq!(presenter(Language::En, &names).date(late), "1 January 2027");
    }

    #[test]
    fn parties_scores_weights_and_shares_have_words_and_units() {
        let mut names = Names::new();
        names.insert("org-10", "瓯江文化传播公司");
        let p = presenter(Language::Zh, &names);
        assert_eq!(p.party("org-10"), "瓯江文化传播公司");
        assert_eq!(p.party("org-99"), "org-99");
        assert_eq!(p.yes_no(true), "是");
        assert_eq!(p.weight(Weight::from_raw(3500)), "35 %");
        assert_eq!(p.weight(Weight::from_raw(1250)), "12.5 %");
        assert_eq!(p.percent(&json!(55.1)), "55.1 %");
        assert_eq!(p.percent(&json!(100)), "100 %");
        assert_eq!(p.score(Score::from_raw(873_456)), "87.35");
    }
}
