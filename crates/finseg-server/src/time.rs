//! Calendar dates in a client's time zone (SPEC §5: all dates are calendar
//! dates in the client's zone, default Europe/Berlin).

use finseg_core::Date;

pub fn zone(name: &str) -> Option<jiff::tz::TimeZone> {
    jiff::tz::TimeZone::get(name).ok()
}

/// Today's date in the named zone (UTC when the zone is unknown).
pub fn today_in(zone_name: &str) -> Date {
    let now = jiff::Timestamp::now();
    let tz = zone(zone_name).unwrap_or(jiff::tz::TimeZone::UTC);
    let d = now.to_zoned(tz).date();
    Date::from_ymd(i32::from(d.year()), d.month() as u32, d.day() as u32)
        .expect("the current date lies within the supported years")
}

/// A Unix time as an RFC 3339 UTC timestamp in JSON (`null` when absent).
pub fn iso(unix: Option<i64>) -> serde_json::Value {
    unix.and_then(|s| jiff::Timestamp::from_second(s).ok())
        .map_or(serde_json::Value::Null, |t| {
            serde_json::Value::from(t.to_string())
        })
}

#[cfg(test)]
mod tests {
    #[test]
    fn berlin_is_known() {
        assert!(super::zone("Europe/Berlin").is_some());
        assert!(super::zone("Mars/Olympus").is_none());
    }
}
