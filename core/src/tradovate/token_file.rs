//! The token file: keeps the access token between runs, in reference document 000's format
//! (its `StoredTokenInfo`): the token answer's every member as received, plus `retrievedAt`
//! in Unix milliseconds, so the document's client and this one can share a file. Files an
//! earlier tradewire wrote (`retrievedAt` as ISO-8601 text) are read too. Written atomically
//! (temporary file + rename) with mode 0600, in a directory created 0700 when missing; a
//! corrupt, foreign or expired file is ignored. Its content is never logged.

use std::fs;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, SystemTime};

use super::token::TokenInfo;
use crate::time::{iso8601, parse_iso8601, unix_millis};

/// Loads a token that is still valid and belongs to `user` (when a user is known).
pub(crate) fn load(
    path: &Path,
    user: Option<&str>,
    now: SystemTime,
    margin: Duration,
) -> Option<TokenInfo> {
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => {
            tw_warn!("tradewire: ignoring the token file {}: {e}", path.display());
            return None;
        }
    };
    let v: serde_json::Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(_) => {
            tw_warn!(
                "tradewire: ignoring the token file {}: it is not valid JSON",
                path.display()
            );
            return None;
        }
    };
    let mut info = match TokenInfo::from_response(&v, now) {
        Ok(i) => i,
        Err(e) => {
            tw_warn!("tradewire: ignoring the token file {}: {e}", path.display());
            return None;
        }
    };
    if let Some(at) = v.get("retrievedAt").and_then(retrieved_at) {
        info.issued_at = at.min(now);
    }
    if let (Some(want), Some(have)) = (user, info.name.as_deref()) {
        if want != have {
            tw_warn!(
                "tradewire: ignoring the token file {}: it belongs to another user",
                path.display()
            );
            return None;
        }
    }
    if !info.is_valid(now, margin) {
        tw_info!(
            "tradewire: ignoring the token file {}: the token has expired",
            path.display()
        );
        return None;
    }
    tw_info!(
        "tradewire: loaded an access token from {} (expires {})",
        path.display(),
        iso8601(info.expires_at)
    );
    Some(info)
}

/// `retrievedAt`: Unix milliseconds (the document's), or ISO-8601 text (tradewire before).
fn retrieved_at(v: &serde_json::Value) -> Option<SystemTime> {
    match v {
        serde_json::Value::Number(n) => n
            .as_u64()
            .map(|ms| std::time::UNIX_EPOCH + Duration::from_millis(ms)),
        serde_json::Value::String(s) => parse_iso8601(s),
        _ => None,
    }
}

/// The file's content: the answer as received, then `retrievedAt` in Unix milliseconds (a
/// token made without an answer gets the members the document's format requires). Pure.
pub(crate) fn stored(info: &TokenInfo) -> serde_json::Value {
    let mut m = info.answer.clone();
    m.entry("accessToken")
        .or_insert_with(|| info.access_token.clone().into());
    if let Some(md) = &info.md_access_token {
        m.entry("mdAccessToken").or_insert_with(|| md.clone().into());
    }
    m.entry("expirationTime")
        .or_insert_with(|| iso8601(info.expires_at).into());
    if let Some(id) = info.user_id {
        m.entry("userId").or_insert_with(|| id.into());
    }
    if let Some(name) = &info.name {
        m.entry("name").or_insert_with(|| name.clone().into());
    }
    m.insert("retrievedAt".into(), unix_millis(info.issued_at).into());
    serde_json::Value::Object(m)
}

/// Creates the missing directories of `dir`, each with mode 0700 (a token file's directory
/// is nobody else's business).
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Writes the token atomically with mode 0600 (its directory created 0700 when missing).
pub(crate) fn save(path: &Path, info: &TokenInfo) -> std::io::Result<()> {
    let v = stored(info);
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    create_private_dir(dir)?;
    let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or("token");
    let tmp = dir.join(format!(
        ".{file_name}.{}.{}.tmp",
        std::process::id(),
        unix_millis(SystemTime::now())
    ));
    let result = (|| {
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut f = options.open(&tmp)?;
        f.write_all(
            serde_json::to_string_pretty(&v)
                .unwrap_or_default()
                .as_bytes(),
        )?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    fn token(expires_in: u64, name: &str) -> TokenInfo {
        let now = SystemTime::now();
        TokenInfo {
            access_token: "secret-token".into(),
            md_access_token: Some("md".into()),
            expires_at: now + Duration::from_secs(expires_in),
            user_id: Some(7),
            name: Some(name.into()),
            issued_at: now,
            answer: serde_json::Map::new(),
        }
    }

    fn temp_dir(tag: &str) -> std::path::PathBuf {
        let d =
            std::env::temp_dir().join(format!("tradewire-tokenfile-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn round_trip_with_0600_and_no_leftovers() {
        let dir = temp_dir("rt");
        let path = dir.join("token.json");
        let t = token(3600, "trader");
        save(&path, &t).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        let back = load(
            &path,
            Some("trader"),
            SystemTime::now(),
            Duration::from_secs(300),
        )
        .unwrap();
        assert_eq!(back.access_token, "secret-token");
        assert_eq!(back.user_id, Some(7));
        assert_eq!(
            fs::read_dir(&dir).unwrap().count(),
            1,
            "no temporary file left"
        );
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn ignores_corrupt_foreign_and_expired_files() {
        let dir = temp_dir("bad");
        let path = dir.join("token.json");
        let margin = Duration::from_secs(300);
        fs::write(&path, "{not json").unwrap();
        assert!(load(&path, None, SystemTime::now(), margin).is_none());
        save(&path, &token(3600, "someone-else")).unwrap();
        assert!(load(&path, Some("trader"), SystemTime::now(), margin).is_none());
        save(&path, &token(60, "trader")).unwrap();
        assert!(
            load(&path, Some("trader"), SystemTime::now(), margin).is_none(),
            "within the 5-minute margin"
        );
        assert!(load(&dir.join("missing.json"), None, UNIX_EPOCH, margin).is_none());
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_documents_format_is_written_and_read_and_so_is_the_older_one() {
        let dir = temp_dir("doc");
        let margin = Duration::from_secs(300);
        // As document 000's client writes it: the answer as received, retrievedAt in ms.
        let expires = iso8601(SystemTime::now() + Duration::from_secs(3600));
        let doc = serde_json::json!({
            "accessToken": "doc-token", "mdAccessToken": "doc-md", "expirationTime": expires,
            "userStatus": "Active", "userId": 7, "name": "trader", "hasLive": false,
            "hasSimPlus": false, "hasFunded": false, "hasMarketData": true,
            "outdatedLiquidationPolicy": false, "outdatedSentimentPolicy": false,
            "experience": "Beginner", "orgName": "Org", "retrievedAt": 1_700_000_000_000u64
        });
        let path = dir.join("shared.json");
        fs::write(&path, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
        let t = load(&path, Some("trader"), SystemTime::now(), margin).unwrap();
        assert_eq!(t.access_token, "doc-token");
        assert_eq!(unix_millis(t.issued_at), 1_700_000_000_000);
        assert_eq!(t.details().fields["orgName"], "Org");
        // Written back: the same members, the same values.
        save(&path, &t).unwrap();
        let back: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(back, doc);
        // The format tradewire wrote before: retrievedAt as ISO-8601 text.
        let old = serde_json::json!({
            "accessToken": "old", "expirationTime": expires, "userId": 7, "name": "trader",
            "retrievedAt": "2023-11-14T22:13:20.000Z"
        });
        fs::write(&path, old.to_string()).unwrap();
        let t = load(&path, Some("trader"), SystemTime::now(), margin).unwrap();
        assert_eq!(unix_millis(t.issued_at), 1_700_000_000_000);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_missing_directory_is_created_private() {
        let dir = temp_dir("mkdir");
        let path = dir.join("state").join("tradewire").join("t.json");
        save(&path, &token(3600, "trader")).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(path.parent().unwrap()), 0o700);
            assert_eq!(mode(&dir.join("state")), 0o700);
            assert_eq!(mode(&path), 0o600);
        }
        let _ = fs::remove_dir_all(&dir);
    }
}
