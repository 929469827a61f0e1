//! Who a request may speak for, when the shim is not only a developer's local cloud.
//!
//! * [`session`]: the shim's own signed, expiring session tokens, issued to a mini-program user
//!   after a sign-in, and required on `/client` in sign-in mode.
//! * [`wechat`]: the exchange of a `wx.login()` code for the user's openid at WeChat's
//!   code-to-session endpoint (or a configured stand-in).
//! * [`tc3`]: the check of the TC3-HMAC-SHA256 signature the server SDKs put on `/admin`
//!   requests, against the configured secret id and key.

pub mod session;
pub mod tc3;
pub mod wechat;

pub use session::{Session, Sessions, TokenError};
pub use wechat::{CodeExchange, DEFAULT_CODE2SESSION_URL, LoginError, WxIdentity};
