//! Who a request speaks for: the server side or a mini-program user. The database service
//! applies CloudBase's client rules (read caps, `_openid`, permission presets) by it, and
//! storage its ownership rule.

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// Server side (cloud functions through wx-server-sdk / node-sdk): trusted, no permission
    /// checks, read limit default 100, cap 1000.
    Admin,
    /// A mini-program user through the generated `wx.cloud` adapter: read limit 20, `_openid`
    /// stamped on inserts, collection presets enforced.
    Client { openid: String, appid: String },
    /// A mini-program caller who has not signed in, when the shim requires sign-in: it may read
    /// what every user may read (collections under the `ALL_READ_*` presets, download URLs),
    /// nothing else.
    Anonymous { appid: String },
}

impl Caller {
    /// Whether this is a caller from the mini-program side (signed in or not).
    pub fn is_client(&self) -> bool {
        !matches!(self, Caller::Admin)
    }
}
