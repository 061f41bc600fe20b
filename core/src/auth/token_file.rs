//! The token file: keeps the access token between runs. Written atomically (temporary
//! file + rename) with mode 0600; a corrupt, foreign or expired file is ignored.

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
    if let Some(at) = v
        .get("retrievedAt")
        .and_then(|t| t.as_str())
        .and_then(parse_iso8601)
    {
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

/// Writes the token atomically with mode 0600.
pub(crate) fn save(path: &Path, info: &TokenInfo) -> std::io::Result<()> {
    let v = serde_json::json!({
        "accessToken": info.access_token,
        "mdAccessToken": info.md_access_token,
        "expirationTime": iso8601(info.expires_at),
        "userId": info.user_id,
        "name": info.name,
        "retrievedAt": iso8601(info.issued_at),
    });
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
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
}
