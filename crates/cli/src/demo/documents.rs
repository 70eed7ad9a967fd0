//! The demo's documents: the recruitment documents published with the announcement and a
//! service plan (PDF) with each bid, written as PDFs and stored as any upload is (a bid's
//! sealed with the tender's data key).

use std::collections::BTreeMap;
use tenderflow_app::{App, Caller};
use tenderflow_core::definition::Workflow;
use tenderflow_core::model::{CommandBody, Document};

async fn upload(
    app: &App,
    caller: &Caller,
    tender: &str,
    slot: Option<&str>,
    name: &str,
    title: &str,
    paragraphs: &[String],
) -> anyhow::Result<Document> {
    let bytes = tenderflow_web::simple_pdf(title, paragraphs)
        .map_err(|e| anyhow::anyhow!("writing {name}: {e}"))?;
    let body = futures_util::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from(bytes))]);
    app.upload_document(caller, tender, name, "application/pdf", slot, body)
        .await
        .map_err(|e| anyhow::anyhow!("uploading {name}: {e}"))
}

/// Adds documents to `body` where the demo has them: the recruitment documents to `publish`,
/// a service plan to each bid when the definition's bid form has a PDF slot.
pub(super) async fn attach(
    app: &App,
    caller: &Caller,
    wf: &Workflow,
    tender: &str,
    names: &BTreeMap<String, String>,
    body: &mut CommandBody,
) -> anyhow::Result<()> {
    let d = wf.definition();
    match body {
        CommandBody::Publish(p) => {
            let title = &d.title.zh_cn;
            p.documents.push(
                upload(
                    app,
                    caller,
                    tender,
                    None,
                    "招募文件.pdf",
                    &format!("{title} · 招募文件 / Recruitment documents"),
                    &[
                        "一、招募内容：职工服务阵地的文体公益服务项目。Scope: public-benefit cultural and sports services at the workers' service venues.".to_owned(),
                        "二、资格条件：依法登记的社会组织或企业，具备相应服务能力。Eligibility: registered organisations able to deliver the services.".to_owned(),
                        "三、评审办法：综合评分法，价格与公益服务占比按公告所列权重计分。Evaluation: weighted criteria as announced.".to_owned(),
                        "四、投标文件：投标表单及服务方案（PDF）。Bid: the bid form and a service plan (PDF).".to_owned(),
                    ],
                )
                .await?,
            );
            p.documents.push(
                upload(
                    app,
                    caller,
                    tender,
                    None,
                    "服务项目清单.pdf",
                    "公益服务项目清单 / Public-benefit service items",
                    &[
                        "文艺演出、体育赛事、读书活动、健身培训、户外运动。Performances, sports events, reading, fitness training, outdoor activities.".to_owned(),
                        "免费或优惠名额不低于百分之二十。At least 20 % of places free or discounted.".to_owned(),
                    ],
                )
                .await?,
            );
        }
        CommandBody::SubmitBid(b) => {
            let Some(slot) = d.documents.bid.slots.iter().find(|s| {
                s.media_types
                    .as_ref()
                    .unwrap_or(&d.documents.bid.media_types)
                    .iter()
                    .any(|m| m == "application/pdf")
            }) else {
                return Ok(());
            };
            let who = names
                .get(caller.actor.id.as_str())
                .map_or(caller.actor.id.as_str(), String::as_str);
            let plan = b.content["servicePlan"].as_str().unwrap_or_default();
            let doc = upload(
                app,
                caller,
                tender,
                Some(&slot.id),
                "服务方案.pdf",
                &format!("{who} · 服务方案 / Service plan"),
                &[plan.to_owned()],
            )
            .await?;
            b.documents.push(doc);
        }
        _ => {}
    }
    Ok(())
}
