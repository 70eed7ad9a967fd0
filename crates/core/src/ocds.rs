//! Open Contracting Data Standard 1.1 export: one release per public event, a release
//! package, and a record with its compiled release. Pure: events in, JSON out.
//!
//! Nothing is published before it is public under the procedure: bids (the bids extension)
//! appear from the opening on, candidates from the award proposal, and evaluators' scores
//! never. Codes come from the OCDS 1.1.5 codelists and the extensions' codelists.

use crate::definition::{Method, Workflow};
use crate::model::{Event, EventBody, Tender, apply};
use serde_json::{Map, Value, json};

/// The bids extension (v1.1.5).
pub const BID_EXTENSION: &str = "https://raw.githubusercontent.com/open-contracting-extensions/ocds_bid_extension/v1.1.5/extension.json";
/// The enquiry extension (v1.1.5): answered clarification questions.
pub const ENQUIRY_EXTENSION: &str = "https://raw.githubusercontent.com/open-contracting-extensions/ocds_enquiry_extension/v1.1.5/extension.json";
/// The lots extension (v1.1.5).
pub const LOTS_EXTENSION: &str = "https://raw.githubusercontent.com/open-contracting-extensions/ocds_lots_extension/v1.1.5/extension.json";

/// Who publishes, and how identifiers are formed.
#[derive(Debug, Clone)]
pub struct Options {
    /// OCID prefix registered with the Open Contracting Partnership (e.g. `ocds-tf0001`).
    pub ocid_prefix: String,
    /// ISO 4217 currency of prices (minor units are divided by 100) when the definition names
    /// none; without either, the rule pack's (CNY for PRC packs, EUR for the EU directive).
    pub currency: Option<String>,
    /// The buyer (procuring entity), id and name, when the definition names none.
    pub buyer: Option<(String, String)>,
    /// The publisher's name.
    pub publisher: String,
    /// Base URI of published packages.
    pub uri: String,
    /// `goods`, `works` or `services`.
    pub category: String,
    /// The registered names of bidders and partners by account id: published as the
    /// parties' names (a bid's own `organisation` text where an id has none).
    pub names: crate::present::Names,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            ocid_prefix: "ocds-tndrfl".into(),
            currency: None,
            buyer: None,
            publisher: "Tenderflow".into(),
            uri: "https://tenderflow.example/ocds".into(),
            category: "services".into(),
            names: crate::present::Names::new(),
        }
    }
}

/// The OCID of a tender.
pub fn ocid(opts: &Options, tender_id: &str) -> String {
    format!("{}-{tender_id}", opts.ocid_prefix)
}

fn amount(minor: i64) -> Value {
    // OCDS amounts are JSON numbers; minor units are exact below 2^53.
    json!(minor as f64 / 100.0)
}

fn org_name(t: &Tender, bidder: &crate::model::ActorId, names: &crate::present::Names) -> String {
    if let Some(name) = names.get(bidder.as_str()) {
        return name.to_owned();
    }
    t.bids
        .iter()
        .find(|(k, _)| &k.bidder == bidder)
        .and_then(|(_, b)| {
            b.content
                .get("organisation")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .unwrap_or_else(|| bidder.to_string())
}

fn party_id(bidder: &crate::model::ActorId) -> String {
    format!("TF-{bidder}")
}

/// The releases of a tender's public events, from its whole history `(seq, event)`.
pub fn releases(wf: &Workflow, events: &[(i64, Event)], opts: &Options) -> Vec<Value> {
    let mut t = Tender::default();
    let mut out = Vec::new();
    let mut amendments: Vec<Value> = Vec::new();
    let mut award_start = None;
    for (i, (seq, e)) in events.iter().enumerate() {
        t = apply(t, e);
        if matches!(e.body, EventBody::AwardProposed { .. }) {
            award_start = Some(e.at);
        }
        let tags: &[&str] = match &e.body {
            EventBody::AnnouncementPublished { .. } => &["tender"],
            EventBody::AmendmentPublished {
                number,
                text,
                deadline_before,
                deadline_after,
                ..
            } => {
                amendments.push(json!({
                    "id": number.to_string(),
                    "date": e.at,
                    "description": text,
                    "rationale": if deadline_after > deadline_before { format!("Bid deadline moved from {deadline_before} to {deadline_after}.") } else { "Clarification.".to_owned() },
                }));
                &["tenderAmendment"]
            }
            EventBody::QuestionAnswered { .. }
            | EventBody::BidsOpened { .. }
            | EventBody::Cancelled { .. }
            | EventBody::ProcedureFailed { .. } => &["tenderUpdate"],
            EventBody::AwardProposed { .. } | EventBody::Awarded { .. } => &["award"],
            // The stage after the award: an agreement in force, each verified delivery and
            // each performance round, and a termination with its reason.
            EventBody::AgreementInForce { .. } => &["contract"],
            EventBody::DeliveryReviewed { verified: true, .. }
            | EventBody::PerformanceEvaluated { .. } => &["implementationUpdate"],
            EventBody::AgreementTerminated { .. } => &["contractTermination"],
            _ => continue,
        };
        // A draft that was never announced is not public: nothing about it is released,
        // not even its cancellation.
        if t.announcement.is_none() {
            continue;
        }
        // The state change a command makes follows its event: publish the state it leads to.
        let mut after = t.clone();
        for (_, next) in events[i + 1..]
            .iter()
            .take_while(|(_, n)| matches!(n.body, EventBody::StateEntered { .. }))
        {
            after = apply(after, next);
        }
        out.push(release(
            wf,
            &after,
            &At {
                seq: *seq,
                event: e,
                tags,
                amendments: &amendments,
                award_start,
            },
            opts,
        ));
    }
    out
}

/// What one release is built from.
struct At<'a> {
    seq: i64,
    event: &'a Event,
    tags: &'a [&'a str],
    amendments: &'a [Value],
    award_start: Option<crate::time::Timestamp>,
}

fn release(wf: &Workflow, t: &Tender, at: &At<'_>, opts: &Options) -> Value {
    let (seq, e, tags, amendments, award_start) =
        (at.seq, at.event, at.tags, at.amendments, at.award_start);
    let ocid = ocid(opts, &t.id);
    let publication = &wf.definition().publication;
    let buyer = publication
        .buyer
        .as_ref()
        .map(|b| (b.id.clone(), b.name.clone()))
        .or_else(|| opts.buyer.clone());
    let currency = publication
        .currency
        .clone()
        .or_else(|| opts.currency.clone())
        .unwrap_or_else(|| match wf.definition().rule_pack {
            crate::definition::RulePack::Eu201424 => "EUR".into(),
            crate::definition::RulePack::Adopted => "XXX".into(),
            _ => "CNY".into(),
        });
    let category = publication
        .category
        .clone()
        .unwrap_or_else(|| opts.category.clone());
    let buyer_ref = buyer
        .as_ref()
        .map(|(id, name)| json!({ "id": id, "name": name }));
    // A delegated procedure is run by the delegate (the procuring entity) for the body that
    // delegated it (an interested party); the buyer stays the definition's.
    let delegation = t.delegation.as_ref();
    let mut parties: Vec<Value> = buyer
        .iter()
        .map(|(id, name)| {
            let roles = if delegation.is_some() {
                json!(["buyer"])
            } else {
                json!(["buyer", "procuringEntity"])
            };
            json!({ "id": id, "name": name, "roles": roles })
        })
        .collect();
    if let Some(d) = delegation {
        parties.push(
            json!({ "id": d.delegate.id, "name": d.delegate.name, "roles": ["procuringEntity"] }),
        );
        parties.push(json!({ "id": d.delegated_by.id, "name": d.delegated_by.name, "roles": ["interestedParty"] }));
    }
    let procuring = match delegation {
        Some(d) => Some(json!({ "id": d.delegate.id, "name": d.delegate.name })),
        None => buyer_ref.clone(),
    };
    let winners: Vec<&crate::scoring::Candidate> = t.awarded.iter().flatten().collect();
    if t.opened() {
        let mut seen = std::collections::BTreeSet::new();
        for k in t.bids.keys() {
            if seen.insert(k.bidder.clone()) {
                let mut roles = vec!["tenderer"];
                if winners.iter().any(|w| w.bidder == k.bidder) {
                    roles.push("supplier");
                }
                parties.push(json!({ "id": party_id(&k.bidder), "name": org_name(t, &k.bidder, &opts.names), "roles": roles }));
            }
        }
    }
    let ann = t.announcement.as_deref();
    let text = |k: &str| {
        ann.and_then(|a| a.get(k))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let status = match t.state.as_str() {
        s if wf.is_terminal(s) => match wf.outcome(s) {
            Some(crate::definition::Outcome::Awarded) => "complete",
            Some(crate::definition::Outcome::Cancelled) => "cancelled",
            _ => "unsuccessful",
        },
        _ => "active",
    };
    let d = wf.definition();
    let mut tender = json!({
        "id": t.id,
        "title": text("title"),
        "description": text("summary"),
        "status": status,
        "procuringEntity": procuring,
        // Invited tendering (邀请招标): the buyer contacts suppliers of its choice.
        "procurementMethod": if t.invitees.is_empty() { "open" } else { "limited" },
        "procurementMethodDetails": d.title.en,
        "mainProcurementCategory": category,
        "awardCriteria": if d.evaluation.method == Method::LowestPrice { "priceOnly" } else { "ratedCriteria" },
        "submissionMethod": ["electronicSubmission"],
        "tenderPeriod": { "startDate": t.published_at, "endDate": t.deadline },
    });
    // Language variants (OCDS: `title_{BCP 47 tag}`): an announcement's `title_zh-CN` or
    // `summary_en` become the tender's `title_zh-CN` and `description_en`.
    for (key, value) in ann.and_then(Value::as_object).into_iter().flatten() {
        let variant = key
            .strip_prefix("title_")
            .map(|tag| ("title", tag))
            .or_else(|| key.strip_prefix("summary_").map(|tag| ("description", tag)));
        if let (Some((field, tag)), Some(text)) = (variant, value.as_str()) {
            if is_language_tag(tag) {
                tender[format!("{field}_{tag}")] = text.into();
            }
        }
    }
    if !amendments.is_empty() {
        tender["amendments"] = json!(amendments);
    }
    // Tender documents: the hash in the description (OCDS has no hash field), a replaced
    // one kept with when and by what it was superseded.
    if !t.documents.is_empty() {
        let docs: Vec<Value> = t
            .documents
            .iter()
            .map(|p| {
                let d = &p.document;
                let mut description = format!("SHA-256 {} · {} bytes", d.sha256, d.size);
                if let (Some(at), Some(by)) = (p.superseded_at, &p.superseded_by) {
                    description.push_str(&format!(" · superseded on {at} by {by}"));
                }
                let mut doc = json!({
                    "id": d.id,
                    "documentType": if p.source == "announcement" { "biddingDocuments" } else { "clarifications" },
                    "title": d.name,
                    "description": description,
                    "format": d.media_type,
                    "datePublished": p.published_at,
                });
                if let Some(at) = p.superseded_at {
                    doc["dateModified"] = json!(at);
                }
                doc
            })
            .collect();
        tender["documents"] = json!(docs);
    }
    // Answered questions, never who asked (the enquiry extension's `author` is left out).
    let enquiries: Vec<Value> = t
        .questions
        .iter()
        .filter_map(|q| {
            let a = q.answer.as_ref()?;
            Some(json!({
                "id": q.id.to_string(),
                "date": q.at,
                "description": q.text,
                "answer": a.text,
                "dateAnswered": a.at,
            }))
        })
        .collect();
    if !enquiries.is_empty() {
        tender["hasEnquiries"] = json!(true);
        tender["enquiries"] = json!(enquiries);
    }
    if t.opened() {
        tender["numberOfTenderers"] = json!(
            t.bids
                .keys()
                .map(|k| &k.bidder)
                .collect::<std::collections::BTreeSet<_>>()
                .len()
        );
    }
    if let Some(start) = award_start {
        // From the proposal (start of publicity) to the award, or to the end of publicity.
        let end = if t.awarded.is_some() {
            Some(e.at)
        } else {
            t.publicity_ends
        };
        tender["awardPeriod"] = json!({ "startDate": start, "endDate": end });
    }
    if t.lots.len() > 1 {
        tender["lots"] = json!(
            t.lots
                .iter()
                .map(|l| json!({ "id": &*l.id, "title": l.title, "status": status }))
                .collect::<Vec<_>>()
        );
    }
    let mut r = json!({
        "ocid": ocid,
        "id": format!("{ocid}-{seq:04}"),
        "date": e.at,
        "tag": tags,
        "initiationType": "tender",
        "language": "zh",
        "parties": parties,
        "buyer": buyer_ref,
        "tender": tender,
    });
    // Without a buyer (none in the definition or the configuration) the keys are left out:
    // OCDS has no null organisation.
    if r["buyer"].is_null() {
        if let Some(o) = r.as_object_mut() {
            o.remove("buyer");
        }
    }
    if r["tender"]["procuringEntity"].is_null() {
        if let Some(o) = r["tender"].as_object_mut() {
            o.remove("procuringEntity");
        }
    }
    if t.opened() {
        let multi = t.lots.len() > 1;
        let details: Vec<Value> = t
            .bids
            .iter()
            .map(|(k, b)| {
                let mut d = json!({
                    "id": format!("{}-bid-{}", t.id, b.receipt),
                    "date": b.received_at,
                    "status": if t.disqualified.contains_key(k) { "disqualified" } else { "valid" },
                    "tenderers": [{ "id": party_id(&k.bidder), "name": org_name(t, &k.bidder, &opts.names) }],
                    "value": { "amount": amount(b.price.minor()), "currency": currency },
                });
                if multi {
                    d["relatedLots"] = json!([&*k.lot]);
                }
                d
            })
            .collect();
        r["bids"] = json!({ "details": details });
    }
    let awarded = t.awarded.is_some();
    if let Some(candidates) = t.awarded.as_ref().or(t.proposed.as_ref()) {
        let awards: Vec<Value> = candidates
            .iter()
            .map(|c| {
                let mut a = json!({
                    "id": format!("{}-award-{}-{}", t.id, &*c.lot, c.rank),
                    "title": format!("Rank {} in lot {}", c.rank, &*c.lot),
                    "status": if awarded { "active" } else { "pending" },
                    "date": e.at,
                    "value": { "amount": amount(c.price.minor()), "currency": currency },
                    "suppliers": [{ "id": party_id(&c.bidder), "name": org_name(t, &c.bidder, &opts.names) }],
                });
                if t.lots.len() > 1 {
                    a["relatedLots"] = json!([&*c.lot]);
                }
                a
            })
            .collect();
        r["awards"] = json!(awards);
    }
    let contracts = contracts(wf, t, &currency, &opts.names);
    if !contracts.is_empty() {
        r["contracts"] = json!(contracts);
    }
    r
}

/// A date term (`YYYY-MM-DD`) as the start of that day in the definition's zone.
fn date_time(wf: &Workflow, v: Option<&Value>) -> Option<crate::time::Timestamp> {
    let d = chrono::NaiveDate::parse_from_str(v?.as_str()?, "%Y-%m-%d").ok()?;
    Some(wf.definition().calendar.start_of(d))
}

/// The agreements in force (or terminated since): value, period, service items, and their
/// implementation — each verified delivery report as a delivery milestone (with its revenue
/// as a transaction) and each performance round as an assessment milestone.
fn contracts(
    wf: &Workflow,
    t: &Tender,
    currency: &str,
    names: &crate::present::Names,
) -> Vec<Value> {
    let Some(c) = wf.contracts() else {
        return Vec::new();
    };
    let rules = &c.agreement;
    let mut out = Vec::new();
    for a in t.agreements.values() {
        let Some(signed) = a.in_force_at else {
            continue;
        };
        let rank = t
            .awarded
            .iter()
            .flatten()
            .find(|w| w.bidder == a.partner)
            .map_or(0, |w| w.rank);
        let supplier =
            json!({ "id": party_id(&a.partner), "name": org_name(t, &a.partner, names) });
        let mut contract = json!({
            "id": format!("{}-contract-{}", t.id, a.partner),
            "awardID": format!("{}-award-{}-{rank}", t.id, &*a.lot),
            "title": format!("Agreement with {}", org_name(t, &a.partner, names)),
            "status": if a.termination.is_some() { "terminated" } else { "active" },
            "dateSigned": signed,
        });
        // The published terms (opening hours, how workers sign up, …) but the items, which
        // are the contract's items; a termination's reason first.
        let mut said: Vec<String> = a
            .termination
            .as_ref()
            .map(|x| format!("Terminated: {}", x.reason))
            .into_iter()
            .collect();
        for k in rules
            .published
            .iter()
            .filter(|k| Some(k.as_str()) != rules.items.as_deref())
        {
            match a.terms.get(k) {
                Some(Value::String(v)) => said.push(format!("{k}: {v}")),
                Some(v @ Value::Number(_)) => said.push(format!("{k}: {v}")),
                _ => {}
            }
        }
        if !said.is_empty() {
            contract["description"] = json!(said.join("; "));
        }
        if let Some(v) = rules
            .value
            .as_deref()
            .and_then(|k| a.terms.get(k))
            .and_then(Value::as_i64)
        {
            contract["value"] = json!({ "amount": amount(v), "currency": currency });
        }
        if let Some(p) = &rules.period {
            let start = date_time(wf, a.terms.get(&p.start));
            let end = date_time(wf, a.terms.get(&p.end));
            if start.is_some() || end.is_some() {
                contract["period"] = json!({ "startDate": start, "endDate": end });
            }
        }
        let items: Vec<Value> = rules
            .items
            .as_deref()
            .and_then(|k| a.terms.get(k))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|i| {
                let id = i.get("id")?.as_str()?;
                let text: Vec<&str> = i
                    .as_object()?
                    .iter()
                    .filter(|(k, _)| *k != "id")
                    .filter_map(|(_, v)| v.as_str())
                    .collect();
                Some(json!({ "id": id, "description": text.join(" — ") }))
            })
            .collect();
        if !items.is_empty() {
            contract["items"] = json!(items);
        }
        let mut milestones = Vec::new();
        let mut transactions: Vec<Value> = Vec::new();
        if let Some(d) = &c.delivery {
            let f = &d.fields;
            for x in a
                .deliveries
                .iter()
                .filter(|x| matches!(x.review, Some((true, _, _))))
            {
                let r = &x.report;
                let n = |k: &str| r.get(k).and_then(Value::as_u64).unwrap_or(0);
                let date = date_time(wf, r.get(&f.date)).unwrap_or(x.at);
                let item = r.get(&f.item).and_then(Value::as_str).unwrap_or_default();
                milestones.push(json!({
                    "id": format!("{}-delivery-{}", a.partner, x.number),
                    "title": format!("{item} on {}", wf.definition().calendar.local_date(date)),
                    "type": "delivery",
                    "status": "met",
                    "dateMet": date,
                    "description": format!(
                        "{} participants; {} of {} places free, {} discounted",
                        n(&f.participants), n(&f.free_places), n(&f.places_offered),
                        n(&f.discounted_places)
                    ),
                }));
                if let Some(k) = &f.revenue {
                    if let Some(v) = r.get(k).and_then(Value::as_i64) {
                        transactions.push(json!({
                            "id": format!("{}-revenue-{}", a.partner, x.number),
                            "date": date,
                            "value": { "amount": amount(v), "currency": currency },
                            "payee": supplier,
                        }));
                    }
                }
            }
        }
        let minimum = c.performance.as_ref().map(|p| p.minimum);
        for round in &a.rounds {
            milestones.push(json!({
                "id": format!("{}-performance-{}", a.partner, round.round),
                "title": format!("Performance evaluation, round {}", round.round),
                "type": "assessment",
                "status": if round.warning { "notMet" } else { "met" },
                "dateModified": round.at,
                "description": format!(
                    "Total {}{}{}",
                    round.total,
                    minimum.map(|m| format!(" (minimum {m})")).unwrap_or_default(),
                    if round.warning { "; warning given" } else { "" }
                ),
            }));
        }
        if !milestones.is_empty() || !transactions.is_empty() {
            let mut implementation = json!({});
            if !milestones.is_empty() {
                implementation["milestones"] = json!(milestones);
            }
            if !transactions.is_empty() {
                implementation["transactions"] = json!(transactions);
            }
            contract["implementation"] = implementation;
        }
        out.push(contract);
    }
    out
}

/// A release package of `releases`.
pub fn package(releases: Vec<Value>, opts: &Options, published: crate::time::Timestamp) -> Value {
    json!({
        "uri": format!("{}/releases/{}.json", opts.uri, published.unix()),
        "version": "1.1",
        "extensions": [BID_EXTENSION, LOTS_EXTENSION, ENQUIRY_EXTENSION],
        "publishedDate": published,
        "publisher": { "name": opts.publisher },
        "releases": releases,
    })
}

/// Merges releases into a compiled release (OCDS merge: objects merge, arrays of objects
/// with `id` merge by id, other values are replaced by later releases).
pub fn compile(releases: &[Value]) -> Value {
    let mut out = Value::Object(Map::new());
    for r in releases {
        merge(&mut out, r);
    }
    if let Some(o) = out.as_object_mut() {
        o.insert("tag".into(), json!(["compiled"]));
        if let (Some(ocid), Some(date)) = (o.get("ocid").cloned(), o.get("date").cloned()) {
            o.insert(
                "id".into(),
                json!(format!(
                    "{}-compiled-{}",
                    ocid.as_str().unwrap_or_default(),
                    date.as_str().unwrap_or_default()
                )),
            );
        }
    }
    out
}

fn merge(into: &mut Value, from: &Value) {
    match (into, from) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                match a.get_mut(k) {
                    Some(existing) => merge(existing, v),
                    None => {
                        a.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (Value::Array(a), Value::Array(b))
            if b.iter().all(|x| x.get("id").is_some()) && !b.is_empty() =>
        {
            for item in b {
                match a.iter_mut().find(|x| x.get("id") == item.get("id")) {
                    Some(existing) => merge(existing, item),
                    None => a.push(item.clone()),
                }
            }
        }
        (slot, v) => *slot = v.clone(),
    }
}

/// A record: every release of the OCID and the compiled release.
pub fn record(releases: Vec<Value>) -> Value {
    let compiled = compile(&releases);
    json!({ "ocid": compiled.get("ocid"), "releases": releases, "compiledRelease": compiled })
}

/// Whether `tag` is a simple BCP 47 language tag (`en`, `zh-CN`, `zh-Hans-CN`): the language
/// variants OCDS allows on text fields.
fn is_language_tag(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let lang_ok = parts
        .next()
        .is_some_and(|l| (2..=3).contains(&l.len()) && l.bytes().all(|b| b.is_ascii_alphabetic()));
    lang_ok
        && parts.all(|p| {
            (p.len() == 4 && p.bytes().all(|b| b.is_ascii_alphabetic()))
                || (p.len() == 2 && p.bytes().all(|b| b.is_ascii_alphabetic()))
                || (p.len() == 3 && p.bytes().all(|b| b.is_ascii_digit()))
        })
}
