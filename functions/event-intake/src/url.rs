//! A Lambda Function URL call as the intake's [`Callback`], and its [`Answer`] as the Function
//! URL response.

use aws_lambda_events::lambda_function_urls::{
    LambdaFunctionUrlRequest, LambdaFunctionUrlResponse,
};
use http::HeaderValue;
use records_workflows::intake::{Answer, Callback};

pub fn callback(req: LambdaFunctionUrlRequest) -> Callback {
    Callback {
        method: req.request_context.http.method,
        source_ip: req.request_context.http.source_ip,
        headers: req.headers,
        body: req.body,
        is_base64_encoded: req.is_base64_encoded,
    }
}

pub fn response(answer: Answer) -> LambdaFunctionUrlResponse {
    let mut resp = LambdaFunctionUrlResponse::default();
    resp.status_code = answer.status as i64;
    resp.headers
        .insert("content-type", HeaderValue::from_static("application/json"));
    resp.headers
        .insert("cache-control", HeaderValue::from_static("no-store"));
    if let Some(secs) = answer.retry_after_secs {
        resp.headers.insert("retry-after", HeaderValue::from(secs));
    }
    resp.body = Some(answer.body.to_string());
    resp.is_base64_encoded = false;
    resp
}
