//! `functions.invokeFunction` (`sdk-wire-protocol.md` §3.2): run a cloud function with
//! `event = JSON.parse(request_data)` and return `response_data` (the JSON text of its result).

use serde_json::{Map, Value, json};

use crate::error::{ShimError, ShimResult};
use crate::functions::{FunctionRunner, InvokeContext};
use crate::service::Caller;

/// Run `functions.invokeFunction`.
pub(super) async fn handle(
    runner: Option<&FunctionRunner>,
    caller: &Caller,
    request_id: &str,
    action: &str,
    body: &Map<String, Value>,
) -> ShimResult<Value> {
    if action != "functions.invokeFunction" {
        return Err(ShimError::InvalidAction(action.to_string()));
    }
    let name = body
        .get("function_name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ShimError::InvalidParam("missing field `function_name`".into()))?;
    let event = match body.get("request_data") {
        None | Some(Value::Null) => "{}".to_string(),
        Some(Value::String(s)) if s.is_empty() => "{}".to_string(),
        Some(Value::String(s)) => {
            serde_json::from_str::<Value>(s).map_err(|e| {
                ShimError::InvalidParam(format!("`request_data` is not valid JSON: {e}"))
            })?;
            s.clone()
        }
        Some(other) => other.to_string(),
    };
    if let Caller::Anonymous { .. } = caller {
        // A function always runs for a known user (its `OPENID`), as on the real platform.
        return Err(ShimError::Unauthenticated(
            "sign in (wx.login) before calling cloud functions".into(),
        ));
    }
    let runner = runner.ok_or_else(|| ShimError::NoFunctions(name.to_string()))?;
    let ctx = match caller {
        Caller::Admin => InvokeContext {
            request_id: request_id.to_string(),
            ..InvokeContext::default()
        },
        Caller::Client { openid, appid } => InvokeContext {
            openid: Some(openid.clone()),
            appid: Some(appid.clone()),
            source: "wx_client".to_string(),
            request_id: request_id.to_string(),
            ..InvokeContext::default()
        },
        Caller::Anonymous { .. } => unreachable!("refused above"),
    };
    let response = runner.invoke(name, &event, ctx).await?;
    Ok(json!({ "response_data": response }))
}
