//! Collection permission presets, as the WeChat console's "basic permissions" (cloud-api.md §2.9).
//!
//! # File format: `cloud/database/_permissions.json`
//!
//! One JSON object mapping a collection name to a preset name; the key `"*"` sets the default
//! for collections not listed:
//!
//! ```json
//! { "*": "CREATOR_READ_WRITE", "news": "ALL_READ_ADMIN_WRITE", "posts": "ALL_READ_CREATOR_WRITE" }
//! ```
//!
//! | preset | also accepted (CloudBase manager API) | client read | client write |
//! |---|---|---|---|
//! | `ALL_READ_CREATOR_WRITE` | `READONLY` | everyone | own records only |
//! | `CREATOR_READ_WRITE` | `PRIVATE` | own records only | own records only |
//! | `ALL_READ_ADMIN_WRITE` | `ADMINWRITE` | everyone | denied |
//! | `ADMIN_ONLY` | `ADMINONLY` | denied | denied |
//!
//! Without a file (or without `"*"`), collections use `CREATOR_READ_WRITE`, the preset the
//! WeChat console gives a new collection. Server-side callers (cloud functions) bypass all of
//! this, as in CloudBase. "Own records" is enforced the way the real presets do it: an implicit
//! `_openid == caller` condition is added to the query, so writing someone else's record
//! succeeds with `updated: 0` rather than failing. Custom security rules (`CUSTOM`) are not
//! supported.

use crate::db::error::{DbError, DbResult};
use std::collections::HashMap;
use std::path::Path;

/// One of the four CloudBase permission presets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    /// Everyone reads; only the creator (`_openid`) writes. Manager-API name `READONLY`.
    AllReadCreatorWrite,
    /// Only the creator reads and writes. Manager-API name `PRIVATE`.
    CreatorReadWrite,
    /// Everyone reads; no client writes. Manager-API name `ADMINWRITE`.
    AllReadAdminWrite,
    /// No client access. Manager-API name `ADMINONLY`.
    AdminOnly,
}

impl Preset {
    /// Parse a preset name (ours or the manager API's), case-insensitively.
    pub fn parse(name: &str) -> Option<Preset> {
        Some(match name.to_ascii_uppercase().as_str() {
            "ALL_READ_CREATOR_WRITE" | "READONLY" => Preset::AllReadCreatorWrite,
            "CREATOR_READ_WRITE" | "PRIVATE" => Preset::CreatorReadWrite,
            "ALL_READ_ADMIN_WRITE" | "ADMINWRITE" => Preset::AllReadAdminWrite,
            "ADMIN_ONLY" | "ADMINONLY" => Preset::AdminOnly,
            _ => return None,
        })
    }

    /// The canonical name used in `_permissions.json`.
    pub fn name(self) -> &'static str {
        match self {
            Preset::AllReadCreatorWrite => "ALL_READ_CREATOR_WRITE",
            Preset::CreatorReadWrite => "CREATOR_READ_WRITE",
            Preset::AllReadAdminWrite => "ALL_READ_ADMIN_WRITE",
            Preset::AdminOnly => "ADMIN_ONLY",
        }
    }
}

/// What a client may do on a collection under a preset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Allowed on every record.
    All,
    /// Allowed, restricted to records whose `_openid` is the caller's.
    Own,
    /// Not allowed: `DATABASE_PERMISSION_DENIED`.
    Denied,
}

impl Preset {
    /// Client read access.
    pub fn read(self) -> Access {
        match self {
            Preset::AllReadCreatorWrite | Preset::AllReadAdminWrite => Access::All,
            Preset::CreatorReadWrite => Access::Own,
            Preset::AdminOnly => Access::Denied,
        }
    }

    /// Client write access (create, update, remove).
    pub fn write(self) -> Access {
        match self {
            Preset::AllReadCreatorWrite | Preset::CreatorReadWrite => Access::Own,
            Preset::AllReadAdminWrite | Preset::AdminOnly => Access::Denied,
        }
    }
}

/// Per-collection presets with a default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permissions {
    default: Preset,
    per_collection: HashMap<String, Preset>,
}

impl Default for Permissions {
    fn default() -> Self {
        Permissions {
            default: Preset::CreatorReadWrite,
            per_collection: HashMap::new(),
        }
    }
}

impl Permissions {
    /// The preset of a collection.
    pub fn preset(&self, collection: &str) -> Preset {
        self.per_collection
            .get(collection)
            .copied()
            .unwrap_or(self.default)
    }

    /// Set one collection's preset.
    pub fn set(&mut self, collection: impl Into<String>, preset: Preset) {
        self.per_collection.insert(collection.into(), preset);
    }

    /// Set the default preset.
    pub fn set_default(&mut self, preset: Preset) {
        self.default = preset;
    }

    /// Parse the JSON text of `_permissions.json`.
    pub fn parse(text: &str) -> DbResult<Permissions> {
        let v: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| DbError::invalid(format!("_permissions.json: {e}")))?;
        let obj = v
            .as_object()
            .ok_or_else(|| DbError::invalid("_permissions.json: expected a JSON object"))?;
        let mut p = Permissions::default();
        for (k, v) in obj {
            let name = v.as_str().ok_or_else(|| {
                DbError::invalid(format!(
                    "_permissions.json: \"{k}\": expected a preset name"
                ))
            })?;
            let preset = Preset::parse(name).ok_or_else(|| {
                DbError::invalid(format!(
                    "_permissions.json: \"{k}\": unknown preset \"{name}\" (use ALL_READ_CREATOR_WRITE, \
                     CREATOR_READ_WRITE, ALL_READ_ADMIN_WRITE or ADMIN_ONLY)"
                ))
            })?;
            if k == "*" {
                p.default = preset;
            } else {
                p.per_collection.insert(k.clone(), preset);
            }
        }
        Ok(p)
    }

    /// Load `_permissions.json` from a file; a missing file gives the defaults.
    pub fn load(path: &Path) -> DbResult<Permissions> {
        match std::fs::read_to_string(path) {
            Ok(text) => Permissions::parse(&text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Permissions::default()),
            Err(e) => Err(DbError::invalid(format!(
                "cannot read {}: {e}",
                path.display()
            ))),
        }
    }
}
