//! Retention schedules (RSIs). The RM spec returns one flat `RSISchedule2` row per
//! (RSI, stage), field names PascalCase; `ActionCode` and `DateToUse` are strings there.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use serde_json::{Value, json};

use crate::envelope::Page;
use crate::error::{ApiError, ApiResult};
use crate::model::{Rsi, RsiStage};
use crate::perms::parse_id;
use crate::request::ApiReq;
use crate::state::AppState;

fn row(r: &Rsi, s: &RsiStage) -> Value {
    json!({
        "RSIID": r.id, "RSI": r.name, "Title": r.title, "Subject": r.subject,
        "Description": r.description, "CreateDate": r.create_date, "RSIStatus": r.status,
        "StatusDate": r.status_date, "DiscontFlag": 0, "DiscontDate": "", "DiscontComment": "",
        "Active": 1, "DispControl": 0,
        "RSIScheduleID": s.id, "RetStage": s.stage, "RecordType": 1, "EventType": s.event_type,
        "RSIRuleCode": s.rule_code, "DateToUse": s.date_to_use.to_string(),
        "YearEndMonth": 12, "YearEndDay": 31, "RetYears": s.years, "RetMonths": s.months,
        "RetDays": s.days, "RetIntervals": 0, "EventRuleDate": "", "EventRule": s.event_rule,
        "EventComment": "", "StageAction": s.action_description, "FixedRet": 0,
        "ActionCode": s.action_code.to_string(), "ActionDescription": s.action_description,
        "Disposition": s.disposition, "ApprovalFlag": s.approval_flag, "MaximumRet": 0,
        "ObjectType": s.object_type, "MakeRendition": 0,
    })
}

fn paged(req: &ApiReq, rows: Vec<Value>) -> ApiResult {
    let page = Page::from(
        req.params.i64("page").map_err(ApiError::rm)?,
        req.params.i64("limit").map_err(ApiError::rm)?,
        25,
    );
    let paging = page.rm_paging(rows.len());
    Ok(Json(json!({
        "collection": {"paging": paging},
        "results": {"ok": true, "data": {"rsis": page.slice(&rows)}},
    }))
    .into_response())
}

/// `GET /api/v2/rsis?page&limit`.
pub async fn list(State(sim): State<AppState>, req: ApiReq) -> ApiResult {
    req.caller().map_err(ApiError::rm)?;
    let rows: Vec<Value> = {
        let store = sim.read();
        store
            .rsis
            .values()
            .flat_map(|r| r.stages.iter().map(move |s| row(r, s)))
            .collect()
    };
    paged(&req, rows)
}

/// `GET /api/v2/rsis/{id}`: that RSI's stage rows.
pub async fn get_one(
    State(sim): State<AppState>,
    Path(id): Path<String>,
    req: ApiReq,
) -> ApiResult {
    req.caller().map_err(ApiError::rm)?;
    let id = parse_id(&id, "id").map_err(ApiError::rm)?;
    let rows: Vec<Value> = {
        let store = sim.read();
        let r = store
            .rsis
            .get(&id)
            .ok_or_else(|| ApiError::bad_request(format!("RSI {id} does not exist")).rm())?;
        r.stages.iter().map(|s| row(r, s)).collect()
    };
    paged(&req, rows)
}

/// `GET /api/v2/rsis/{rsiid}/schedules/{id}` → `{"schedule":{…}}`.
pub async fn schedule(
    State(sim): State<AppState>,
    Path((rsi, sched)): Path<(String, String)>,
    req: ApiReq,
) -> ApiResult {
    req.caller().map_err(ApiError::rm)?;
    let rsi = parse_id(&rsi, "rsiid").map_err(ApiError::rm)?;
    let sched = parse_id(&sched, "id").map_err(ApiError::rm)?;
    let store = sim.read();
    let r = store
        .rsis
        .get(&rsi)
        .ok_or_else(|| ApiError::bad_request(format!("RSI {rsi} does not exist")).rm())?;
    let s = r.stages.iter().find(|s| s.id == sched).ok_or_else(|| {
        ApiError::bad_request(format!("RSI schedule {sched} does not exist in RSI {rsi}")).rm()
    })?;
    Ok(
        Json(json!({"schedule": row(r, s), "results": {"ok": true, "errMsg": "", "id": s.id}}))
            .into_response(),
    )
}
