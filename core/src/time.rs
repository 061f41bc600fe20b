//! Wall-clock helpers: ISO-8601 formatting without a date library.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch (0 if the clock is before 1970).
pub fn unix_millis(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Formats a time as ISO-8601 UTC with milliseconds: `2025-01-17T14:45:15.123Z`.
pub fn iso8601(t: SystemTime) -> String {
    let ms = unix_millis(t);
    format_utc(ms / 1000, ms % 1000, 3)
}

/// Formats a time as ISO-8601 UTC with microseconds: `2025-01-17T14:45:15.123456Z` (the
/// Unix epoch if the clock is before 1970). The form of `received_at` in an event's JSON.
pub fn iso8601_micros(t: SystemTime) -> String {
    let mut out = String::with_capacity(27);
    push_iso8601_micros(&mut out, t);
    out
}

/// Appends [`iso8601_micros`]'s text to `out`, without formatting machinery (it is written
/// once per message on the CLI's and the bindings' JSON paths).
pub fn push_iso8601_micros(out: &mut String, t: SystemTime) {
    let us = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros())
        .unwrap_or(0);
    let us = u64::try_from(us).unwrap_or(u64::MAX);
    let secs = us / 1_000_000;
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    let rem = secs % 86_400;
    let fields: [(u64, usize, char); 7] = [
        (y.clamp(0, 9999) as u64, 4, '-'),
        (u64::from(m), 2, '-'),
        (u64::from(d), 2, 'T'),
        (rem / 3600, 2, ':'),
        ((rem / 60) % 60, 2, ':'),
        (rem % 60, 2, '.'),
        (us % 1_000_000, 6, 'Z'),
    ];
    for (value, width, after) in fields {
        let mut digits = [b'0'; 6];
        let mut v = value;
        for slot in digits[..width].iter_mut().rev() {
            *slot = b'0' + (v % 10) as u8;
            v /= 10;
        }
        for &digit in &digits[..width] {
            out.push(char::from(digit));
        }
        out.push(after);
    }
}

/// `secs` since the epoch and a `digits`-digit fraction as `YYYY-MM-DDTHH:MM:SS.fffZ`.
fn format_utc(secs: u64, fraction: u64, digits: usize) -> String {
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    let rem = secs % 86_400;
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{fraction:0digits$}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60,
    )
}

/// Parses an ISO-8601 / RFC 3339 UTC timestamp such as `2025-01-17T14:45:15.123Z` or
/// `2025-01-17T14:45:15+00:00` (any offset). `None` when it is not one.
///
/// ```
/// use tradewire::time::{iso8601, parse_iso8601};
/// let t = parse_iso8601("2025-01-17T14:45:15.123Z").unwrap();
/// assert_eq!(iso8601(t), "2025-01-17T14:45:15.123Z");
/// ```
pub fn parse_iso8601(s: &str) -> Option<SystemTime> {
    let s = s.trim();
    let b = s.as_bytes();
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || !(b[10] == b'T' || b[10] == b't' || b[10] == b' ')
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut rest = &s[19..];
    let mut nanos: u64 = 0;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return None;
        }
        let kept = &frac[..digits.min(9)];
        nanos = kept.parse::<u64>().ok()? * 10u64.pow(9 - kept.len() as u32);
        rest = &frac[digits..];
    }
    let offset_secs: i64 = match rest {
        "Z" | "z" | "" => 0,
        // Bytes, not str slices: the text may come from a server (`time_pointer`), and a
        // slice inside a multi-byte character would panic.
        o if o.len() == 6 && (o.starts_with('+') || o.starts_with('-')) && o.as_bytes()[3] == b':' => {
            let two = |r: std::ops::Range<usize>| -> Option<i64> {
                let part = o.get(r)?;
                part.bytes().all(|c| c.is_ascii_digit()).then(|| part.parse().ok())?
            };
            let h = two(1..3)?;
            let m = two(4..6)?;
            let v = h * 3600 + m * 60;
            if o.starts_with('-') {
                -v
            } else {
                v
            }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month as u32, day as u32);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_secs;
    if secs < 0 {
        return None;
    }
    Some(
        UNIX_EPOCH
            + std::time::Duration::from_secs(secs as u64)
            + std::time::Duration::from_nanos(nanos),
    )
}

/// A server's timestamp (the JSON value at `time_pointer`) as a time, or `None` when it is
/// not one (never an error). Recognised: a JSON number of seconds, milliseconds,
/// microseconds or nanoseconds since the Unix epoch, the unit told by its magnitude (below
/// 10^11: seconds, up to year 5138; below 10^14: milliseconds; below 10^17: microseconds;
/// else nanoseconds), and a JSON string holding an ISO-8601 / RFC 3339 time or such a
/// number. Zero and negative numbers are `None`. Pure; no allocation.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use tradewire::time::server_time;
/// let t = UNIX_EPOCH + Duration::from_millis(1_737_125_115_123);
/// assert_eq!(server_time("1737125115123"), Some(t));
/// assert_eq!(server_time("1737125115.5"), Some(UNIX_EPOCH + Duration::from_millis(1_737_125_115_500)));
/// assert_eq!(server_time(r#""2025-01-17T14:45:15.123Z""#), Some(t));
/// assert_eq!(server_time(r#""yesterday""#), None);
/// ```
pub fn server_time(raw: &str) -> Option<SystemTime> {
    let raw = raw.trim();
    match raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        // A timestamp has no escapes: a string with one is not a time.
        Some(inner) if inner.contains('\\') => None,
        Some(inner) => parse_iso8601(inner).or_else(|| epoch_number(inner.trim())),
        None => epoch_number(raw),
    }
}

/// Units per second of an epoch number of this magnitude (see [`server_time`]).
fn units_per_second(magnitude: f64) -> u64 {
    if magnitude < 1e11 {
        1
    } else if magnitude < 1e14 {
        1_000
    } else if magnitude < 1e17 {
        1_000_000
    } else {
        1_000_000_000
    }
}

/// An epoch number in seconds, milliseconds, microseconds or nanoseconds (by magnitude).
fn epoch_number(s: &str) -> Option<SystemTime> {
    let b = s.as_bytes();
    if b.is_empty() || !b.iter().all(|c| c.is_ascii_digit() || b".eE+-".contains(c)) {
        return None;
    }
    if b.iter().all(u8::is_ascii_digit) {
        // Whole numbers are exact to the nanosecond (a float is not, beyond 2^53).
        let n: u64 = s.parse().ok()?;
        if n == 0 {
            return None;
        }
        let per = units_per_second(n as f64);
        let nanos = u128::from(n % per) * u128::from(1_000_000_000 / per);
        let d = std::time::Duration::new(n / per, nanos as u32);
        return UNIX_EPOCH.checked_add(d);
    }
    let v: f64 = s.parse().ok()?;
    if !(v.is_finite() && v > 0.0) {
        return None;
    }
    let secs = v / units_per_second(v) as f64;
    UNIX_EPOCH.checked_add(std::time::Duration::try_from_secs_f64(secs).ok()?)
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 } as i64;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Converts days since 1970-01-01 to a (year, month, day) civil date (proleptic Gregorian).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn formats_known_instants() {
        assert_eq!(iso8601(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let t = UNIX_EPOCH + Duration::from_millis(1_737_125_115_123);
        assert_eq!(iso8601(t), "2025-01-17T14:45:15.123Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(iso8601(leap), "2000-02-29T00:00:00.000Z");
        assert_eq!(iso8601_micros(UNIX_EPOCH), "1970-01-01T00:00:00.000000Z");
        let t = UNIX_EPOCH + Duration::from_nanos(1_737_125_115_123_456_789);
        assert_eq!(iso8601_micros(t), "2025-01-17T14:45:15.123456Z");
        assert_eq!(
            parse_iso8601(&iso8601_micros(t)),
            Some(t - Duration::from_nanos(789))
        );
        let leap = UNIX_EPOCH + Duration::from_micros(951_868_799_000_001); // 2000-02-29
        assert_eq!(iso8601_micros(leap), "2000-02-29T23:59:59.000001Z");
        let far = UNIX_EPOCH + Duration::from_secs(253_402_300_799); // the last second of 9999
        assert_eq!(iso8601_micros(far), "9999-12-31T23:59:59.000000Z");
    }

    #[test]
    fn parses_what_it_formats_and_offsets() {
        for ms in [0u64, 951_782_400_000, 1_737_125_115_123, 4_102_444_799_999] {
            let t = UNIX_EPOCH + Duration::from_millis(ms);
            assert_eq!(parse_iso8601(&iso8601(t)), Some(t));
        }
        assert_eq!(
            parse_iso8601("2025-01-17T16:45:15+02:00"),
            parse_iso8601("2025-01-17T14:45:15Z")
        );
        assert_eq!(
            parse_iso8601("2025-01-17T14:45:15"),
            parse_iso8601("2025-01-17T14:45:15.000Z")
        );
        for bad in [
            "",
            "2025-01-17",
            "2025-13-01T00:00:00Z",
            "2025-01-17T14:45:15.Z",
            "garbage-with-length-20",
            "2025-01-17T14:45:15+0200",
            "2025-01-17T14:45:15+é:0",
            "2025-01-17T14:45:15+0é:0",
            "2025-01-17T14:45:15+1a:00",
        ] {
            assert_eq!(parse_iso8601(bad), None, "{bad}");
        }
    }

    #[test]
    fn server_times_in_every_unit_and_as_strings() {
        let t = UNIX_EPOCH + Duration::from_nanos(1_737_125_115_123_456_789);
        let ms = UNIX_EPOCH + Duration::from_millis(1_737_125_115_123);
        let us = UNIX_EPOCH + Duration::from_micros(1_737_125_115_123_456);
        assert_eq!(server_time("1737125115"), Some(UNIX_EPOCH + Duration::from_secs(1_737_125_115)));
        assert_eq!(server_time("1737125115123"), Some(ms));
        assert_eq!(server_time("1737125115123456"), Some(us));
        assert_eq!(server_time("1737125115123456789"), Some(t));
        assert_eq!(server_time(" \"1737125115123\" "), Some(ms));
        assert_eq!(server_time("\"2025-01-17T14:45:15.123456789Z\""), Some(t));
        assert_eq!(server_time("\"2025-01-17T16:45:15.123+02:00\""), Some(ms));
        // Fractions and exponents (a Python server's time.time()).
        // (A float holds such a time to about 0.2 µs.)
        let near = |raw: &str, want: SystemTime| {
            let got = server_time(raw).unwrap();
            let off = got.duration_since(want).unwrap_or_else(|e| e.duration());
            assert!(off < Duration::from_micros(1), "{raw}: {off:?}");
        };
        near("1737125115.123456", us);
        near("1.737125115123e12", ms);
        near("1737125115123.456", us);
        // The edges of the units.
        assert_eq!(server_time("99999999999"), Some(UNIX_EPOCH + Duration::from_secs(99_999_999_999)));
        assert_eq!(server_time("100000000000"), Some(UNIX_EPOCH + Duration::from_millis(100_000_000_000)));
        assert_eq!(server_time("18446744073709551615"), Some(UNIX_EPOCH + Duration::from_nanos(u64::MAX)));
        // Not a time: None, never an error or a panic.
        for raw in [
            "0", "-5", "-1.5", "null", "true", "{}", "[1]", "\"\"", "\"soon\"", "\"NaN\"",
            "\"inf\"", "1e400", "18446744073709551616", "\"2025\\u002d01\"", "\"é\"", "",
            "\"", "1.2.3", "--1",
        ] {
            assert_eq!(server_time(raw), None, "{raw}");
        }
    }
}
