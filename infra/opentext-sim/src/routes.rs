//! The route table. `IMPLEMENTED` lists every Content Server operation the sim serves, written
//! exactly as the OpenAPI specs write the path; the router is built from the same list, so the
//! spec-conformance test checks what is really served.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use serde_json::json;

use crate::error::ApiError;
use crate::state::AppState;
use crate::{
    admin, audit, auth, categories, content, disposition, faults, holds, info, multipart, nodes,
    otds_oauth, permissions, rm, rsis, search, versions,
};

/// Where the CS REST API lives (the base URL plus `/api`).
pub const API_PREFIX: &str = "/otcs/cs.exe/api";

macro_rules! api_routes {
    ($( $method:ident $path:literal => $handler:path ),* $(,)?) => {
        /// `(method, spec path)` of every implemented operation, relative to `/otcs/cs.exe/api`.
        pub const IMPLEMENTED: &[(&str, &str)] = &[ $( (stringify!($method), $path) ),* ];

        fn api_routes() -> Vec<(&'static str, MethodRouter<AppState>)> {
            vec![ $( ($path, axum::routing::$method($handler)) ),* ]
        }
    };
}

api_routes! {
    get "/v1/ping" => info::ping,
    get "/v1/serverinfo" => info::serverinfo,
    post "/v1/auth" => auth::login,
    get "/v1/auth" => auth::whoami,
    delete "/v1/auth" => auth::logout,

    post "/v2/nodes" => nodes::create,
    get "/v2/nodes/{id}" => nodes::get_v2,
    put "/v2/nodes/{id}" => nodes::update,
    delete "/v2/nodes/{id}" => nodes::delete,
    get "/v1/nodes/{id}" => nodes::get_v1,
    get "/v2/nodes/{id}/nodes" => nodes::children,

    get "/v1/nodes/{id}/content" => content::node_content,
    get "/v2/nodes/{id}/content" => content::node_content,
    get "/v1/nodes/{id}/content/{filename}" => content::node_content_named,
    get "/v2/nodes/{id}/content/{filename}" => content::node_content_named,
    get "/v1/nodes/{id}/versions/{version_number}/content" => content::version_content,
    get "/v2/nodes/{id}/versions/{version_number}/content" => content::version_content,

    get "/v2/nodes/{id}/versions" => versions::list,
    post "/v2/nodes/{id}/versions" => versions::add_v2,
    delete "/v2/nodes/{id}/versions" => versions::purge,
    post "/v1/nodes/{id}/versions" => versions::add_v1,
    get "/v2/nodes/{id}/versions/{version_number}" => versions::get_one,
    get "/v1/nodes/{id}/versions/latest" => versions::latest_v1,

    get "/v2/multipart/settings" => multipart::settings,
    post "/v2/multipart" => multipart::start,
    post "/v2/multipart/{upload_key}/{part_number}" => multipart::part,
    post "/v2/multipart/{upload_key}" => multipart::complete,
    delete "/v2/multipart/{upload_key}" => multipart::cancel,

    get "/v2/nodes/{id}/categories" => categories::list,
    post "/v2/nodes/{id}/categories" => categories::add,
    get "/v2/nodes/{id}/categories/{category_id}/" => categories::get_one,
    put "/v2/nodes/{id}/categories/{category_id}/" => categories::update,
    delete "/v2/nodes/{id}/categories/{category_id}/" => categories::remove,

    get "/v1/nodes/{id}/rmclassifications" => rm::get,
    post "/v1/nodes/{id}/rmclassifications" => rm::apply,
    put "/v1/nodes/{id}/rmclassifications" => rm::update,
    delete "/v1/nodes/{id}/rmclassifications/{class_id}" => rm::remove,

    get "/v2/holds" => holds::list,
    get "/v2/holds/{id}" => holds::get_one,
    post "/v1/holds" => holds::create,
    get "/v1/nodes/{id}/holds" => holds::node_holds,
    post "/v1/nodes/{id}/holds" => holds::apply,
    delete "/v1/nodes/{id}/holds/{hold_id}" => holds::remove,

    get "/v2/rsis" => rsis::list,
    get "/v2/rsis/{id}" => rsis::get_one,
    get "/v2/rsis/{rsiid}/schedules/{id}" => rsis::schedule,

    post "/v1/nodes/{id}/startdispsearch" => disposition::run::start,
    get "/v2/snapshottable/{id}" => disposition::views::snapshottable,
    get "/v2/nodes/{id}/disposition-snapshots/qdate/{qdate}" => disposition::views::items,
    get "/v2/nodes/{id}/disposition-snapshots/qdate/{qdate}/reviewerid/{reviewerid}/reviewerstep/{reviewerstep}" => disposition::views::reviewer_items,
    get "/v1/disposition/{id}/qdate/{qdate}" => disposition::views::properties,
    delete "/v1/disposition/{id}/qdate/{qdate}" => disposition::views::delete,
    post "/v1/members/{id}/disposition/changereviewdecision" => disposition::review::change_review_decision,
    post "/v1/members/{id}/disposition/finishreview" => disposition::review::finish_review,
    post "/v1/members/{id}/disposition/changeactions" => disposition::review::change_actions,
    post "/v1/members/{id}/disposition/performactions" => disposition::perform::perform_actions,

    post "/v2/search" => search::search,

    get "/v2/nodes/{id}/audit" => audit::list,

    get "/v2/nodes/{id}/permissions" => permissions::list,
    get "/v2/nodes/{id}/permissions/effective/{right_id}" => permissions::effective_of,
    post "/v2/nodes/{id}/permissions/custom" => permissions::add_custom,
    put "/v2/nodes/{id}/permissions/custom/{right_id}" => permissions::update_custom,
    delete "/v2/nodes/{id}/permissions/custom/{right_id}" => permissions::delete_custom,
}

/// Spec path to router path: parameters renamed by position (`{p1}`, `{p2}`) so routes that
/// share a prefix agree on names, and the spec's trailing slash dropped.
fn router_path(spec: &str) -> String {
    let mut n = 0;
    spec.trim_end_matches('/')
        .split('/')
        .map(|seg| {
            if seg.starts_with('{') {
                n += 1;
                format!("{{p{n}}}")
            } else {
                seg.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

async fn unknown_api() -> Response {
    ApiError::unknown_url().into_response()
}

async fn outside() -> Response {
    (
        axum::http::StatusCode::NOT_FOUND,
        axum::Json(
            json!({"error": "Not found. The Content Server REST API is under /otcs/cs.exe/api"}),
        ),
    )
        .into_response()
}

/// The whole HTTP surface: CS REST API, OTDS credentials, admin API.
pub fn app(sim: AppState) -> Router {
    let mut api: Router<AppState> = Router::new();
    for (spec, route) in api_routes() {
        let path = router_path(spec);
        api = api.route(&path, route.clone());
        if spec.ends_with('/') {
            api = api.route(&format!("{path}/"), route);
        }
    }
    let api = api
        .fallback(unknown_api)
        .method_not_allowed_fallback(unknown_api)
        .layer(from_fn_with_state(sim.clone(), faults::api_layer));
    Router::new()
        .nest(API_PREFIX, api)
        .nest("/sim/admin", admin::router())
        .route(
            "/otdsws/rest/authentication/credentials",
            post(auth::otds_credentials),
        )
        .route(
            "/otdsws/v1/authentication/credentials",
            post(auth::otds_credentials),
        )
        .route(otds_oauth::AUTH_PATH, get(otds_oauth::authorize::authorize))
        .route(otds_oauth::LOGIN_PATH, post(otds_oauth::authorize::login))
        .route(otds_oauth::TOKEN_PATH, post(otds_oauth::token::token))
        .fallback(outside)
        // Uploads are streamed to disk, so no body size cap.
        .layer(DefaultBodyLimit::disable())
        .with_state(sim)
}
