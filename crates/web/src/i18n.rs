//! Languages: zh-CN and en, chosen by `?lang=` (the switch on every page) or else by
//! `Accept-Language`; texts from the Fluent catalogues in `locales/`, times as people read
//! them in the tender's time zone.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader, static_loader};
use std::borrow::Cow;
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::LazyLock;
use tenderflow_core::Timestamp;
use tenderflow_core::present::{self, Language, Names, Presenter};

static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "en",
        // No Unicode isolation marks around arguments: the pages are HTML, not bidi text.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

/// The page's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// 简体中文.
    Zh,
    /// English.
    En,
}

impl Lang {
    /// The BCP 47 tag.
    pub fn tag(self) -> &'static str {
        match self {
            Self::Zh => "zh-CN",
            Self::En => "en",
        }
    }

    /// The other language (for the switch).
    pub fn other(self) -> Self {
        match self {
            Self::Zh => Self::En,
            Self::En => Self::Zh,
        }
    }

    fn id(self) -> &'static LanguageIdentifier {
        // Parsed once, not on each of a page's lookups.
        static ZH: LazyLock<LanguageIdentifier> =
            LazyLock::new(|| Lang::Zh.tag().parse().unwrap_or_default());
        static EN: LazyLock<LanguageIdentifier> =
            LazyLock::new(|| Lang::En.tag().parse().unwrap_or_default());
        match self {
            Self::Zh => &ZH,
            Self::En => &EN,
        }
    }

    /// The catalogue's text for `key`.
    pub fn t(self, key: &str) -> String {
        LOCALES.lookup(self.id(), key)
    }

    /// The catalogue's text for `key`, if it has one.
    pub fn try_t(self, key: &str) -> Option<String> {
        LOCALES.try_lookup(self.id(), key)
    }

    /// The catalogue's text for `key` with arguments.
    pub fn t_with(self, key: &str, args: &[(&'static str, FluentValue<'static>)]) -> String {
        let map: HashMap<Cow<'static, str>, FluentValue<'static>> = args
            .iter()
            .map(|(k, v)| (Cow::Borrowed(*k), v.clone()))
            .collect();
        LOCALES.lookup_with_args(self.id(), key, &map)
    }

    /// The language as the core's presentation names it.
    pub fn language(self) -> Language {
        match self {
            Self::Zh => Language::Zh,
            Self::En => Language::En,
        }
    }

    /// How facts are shown to a reader of this language, for a tender in a zone `offset`
    /// minutes east of UTC whose prices are in `currency`, naming parties from `names`.
    pub fn presenter<'a>(self, offset: i32, currency: &'a str, names: &'a Names) -> Presenter<'a> {
        Presenter {
            lang: self.language(),
            utc_offset_minutes: offset,
            currency,
            names,
        }
    }

    /// `t` as people read it in a zone `offset` minutes east of UTC:
    /// `2026年1月26日 10:00 北京时间`, `26 January 2026, 10:00 China Standard Time`.
    pub fn when(self, t: Timestamp, offset: i32) -> String {
        present::local_time(self.language(), offset, t)
    }

    /// A zone `offset` minutes east of UTC as people name it (`北京时间`, `UTC+01:00`).
    pub fn zone(self, offset: i32) -> String {
        present::zone(self.language(), offset)
    }

    /// How long until `end` from `now`: `3 days 4 hours`, or that it has passed.
    pub fn countdown(self, now: Timestamp, end: Timestamp) -> String {
        let left = end.unix() - now.unix();
        if left <= 0 {
            return self.t("closed");
        }
        let (days, hours, minutes) = (left / 86_400, left % 86_400 / 3600, left % 3600 / 60);
        self.t_with(
            "closes-in",
            &[
                ("days", FluentValue::from(days)),
                ("hours", FluentValue::from(hours)),
                ("minutes", FluentValue::from(minutes)),
            ],
        )
    }

    fn from_query(query: &str) -> Option<Self> {
        query.split('&').find_map(|pair| match pair {
            "lang=zh-CN" | "lang=zh" => Some(Self::Zh),
            "lang=en" => Some(Self::En),
            _ => None,
        })
    }

    fn from_accept(header: &str) -> Self {
        // The language the browser prefers most (by quality, `accept-language` parses the
        // header) that we have; English when none.
        accept_language::parse(header)
            .iter()
            .find_map(|tag| {
                let tag = tag.to_ascii_lowercase();
                if tag.starts_with("zh") {
                    Some(Self::Zh)
                } else if tag.starts_with("en") {
                    Some(Self::En)
                } else {
                    None
                }
            })
            .unwrap_or(Self::En)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        if let Some(l) = parts.uri.query().and_then(Self::from_query) {
            return Ok(l);
        }
        let accept = parts
            .headers
            .get(axum::http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        Ok(Self::from_accept(accept))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_people_write_them() {
        let t = Timestamp::parse("2026-01-26T02:00:00Z").expect("t");
        assert_eq!(Lang::Zh.when(t, 480), "2026年1月26日 10:00 北京时间");
        assert_eq!(
            Lang::En.when(t, 480),
            "26 January 2026, 10:00 China Standard Time"
        );
        assert_eq!(Lang::En.when(t, 60), "26 January 2026, 03:00 UTC+01:00");
    }

    #[test]
    fn the_language_comes_from_the_switch_then_the_browser() {
        assert_eq!(Lang::from_query("x=1&lang=zh-CN"), Some(Lang::Zh));
        assert_eq!(Lang::from_accept("fr-FR, zh-TW;q=0.8, en;q=0.5"), Lang::Zh);
        assert_eq!(Lang::from_accept("de"), Lang::En);
        // Quality values count, not the order they are written in.
        assert_eq!(Lang::from_accept("en;q=0.1, zh-CN;q=0.9"), Lang::Zh);
        assert_eq!(Lang::from_accept("zh;q=0.2, fr, en;q=0.8"), Lang::En);
    }

    #[test]
    fn every_key_exists_in_both_catalogues() {
        let read = |l: &str| {
            std::fs::read_to_string(format!(
                "{}/locales/{l}/main.ftl",
                env!("CARGO_MANIFEST_DIR")
            ))
            .expect("catalogue")
        };
        let keys = |text: &str| -> Vec<String> {
            let mut k: Vec<String> = text
                .lines()
                .filter_map(|l| l.split_once(" =").map(|(k, _)| k.trim().to_owned()))
                .filter(|k| !k.is_empty() && !k.starts_with('#') && !k.starts_with(' '))
                .collect();
            k.sort();
            k
        };
        assert_eq!(keys(&read("en")), keys(&read("zh-CN")));
    }
}
