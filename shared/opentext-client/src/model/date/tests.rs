use super::*;
use time::macros::{datetime, offset};

fn tz(s: &str) -> ServerTimeZone {
    s.parse().unwrap()
}

fn at(raw: &str, zone: &str) -> OffsetDateTime {
    OtDateTime::parse_in(raw, tz(zone)).instant().unwrap()
}

#[test]
fn every_form_the_specs_use_is_read() {
    let cases = [
        ("2026-12-01T07:38:58Z", datetime!(2026-12-01 07:38:58 UTC)),
        ("2026-12-01t07:38:58z", datetime!(2026-12-01 07:38:58 UTC)),
        (
            "2026-12-01T07:38:58.250Z",
            datetime!(2026-12-01 07:38:58.25 UTC),
        ),
        (
            "2026-12-01T09:38:58+02:00",
            datetime!(2026-12-01 07:38:58 UTC),
        ),
        (
            "2026-12-01T02:38:58-05:00",
            datetime!(2026-12-01 07:38:58 UTC),
        ),
        (
            "2026-12-01T09:38:58+0200",
            datetime!(2026-12-01 07:38:58 UTC),
        ),
        ("2026-12-01T09:38:58+02", datetime!(2026-12-01 07:38:58 UTC)),
        ("2026-12-01T07:38:58", datetime!(2026-12-01 07:38:58 UTC)),
        (
            "2026-12-01T07:38:58.123456",
            datetime!(2026-12-01 07:38:58.123456 UTC),
        ),
        ("2026-12-01 07:38:58", datetime!(2026-12-01 07:38:58 UTC)),
        (
            "2026-12-01 07:38:58.5",
            datetime!(2026-12-01 07:38:58.5 UTC),
        ),
        ("2026-12-01 07:38:58Z", datetime!(2026-12-01 07:38:58 UTC)),
        ("2026-12-01T07:38", datetime!(2026-12-01 07:38:00 UTC)),
        ("2026-12-01", datetime!(2026-12-01 00:00:00 UTC)),
        ("20261201", datetime!(2026-12-01 00:00:00 UTC)),
        (" 2026-12-01T07:38:58 ", datetime!(2026-12-01 07:38:58 UTC)),
    ];
    for (raw, expected) in cases {
        let d = OtDateTime::parse(raw);
        assert_eq!(d.instant(), Ok(expected), "{raw}");
        assert_eq!(d.as_str(), raw, "the text is kept");
    }
    assert!(OtDateTime::parse("2026-12-01T07:38:58Z").has_zone());
    assert!(OtDateTime::parse("2026-12-01T07:38:58-05:00").has_zone());
    assert!(!OtDateTime::parse("2026-12-01T07:38:58").has_zone());
    assert!(!OtDateTime::parse("2026-12-01").has_zone());
}

#[test]
fn zone_less_values_are_read_in_the_servers_zone() {
    assert_eq!(
        at("2026-12-01T07:38:58", "+02:00"),
        datetime!(2026-12-01 05:38:58 UTC)
    );
    assert_eq!(
        at("2026-12-01 07:38:58.5", "-05:30"),
        datetime!(2026-12-01 13:08:58.5 UTC)
    );
    assert_eq!(
        at("2026-12-01", "+02:00"),
        datetime!(2026-11-30 22:00:00 UTC),
        "a bare date is the server's midnight"
    );
    assert_eq!(
        at("2026-12-01T07:38:58", "UTC"),
        datetime!(2026-12-01 07:38:58 UTC)
    );
    // The client's values carry its zone; re-reading in another changes the instant.
    let d = OtDateTime::parse("2026-12-01T07:38:58").in_zone(tz("+02:00"));
    assert_eq!(d.zone(), tz("+02:00"));
    assert_eq!(d.to_rfc3339().unwrap(), "2026-12-01T05:38:58Z");
    let mut d = d;
    d.set_zone(ServerTimeZone::UTC);
    assert_eq!(d.to_rfc3339().unwrap(), "2026-12-01T07:38:58Z");
}

#[test]
fn values_with_a_zone_are_not_moved_by_the_servers_zone() {
    for raw in [
        "2026-12-01T07:38:58Z",
        "2026-12-01T09:38:58+02:00",
        "2026-12-01T02:38:58-05:00",
    ] {
        for zone in ["UTC", "+02:00", "-05:30", "+14:00"] {
            assert_eq!(
                at(raw, zone),
                datetime!(2026-12-01 07:38:58 UTC),
                "{raw} {zone}"
            );
        }
    }
}

#[test]
fn written_onward_as_rfc3339_with_a_zone() {
    let cases = [
        ("2026-12-01T07:38:58", "UTC", "2026-12-01T07:38:58Z"),
        ("2026-12-01T07:38:58", "+02:00", "2026-12-01T05:38:58Z"),
        ("2026-12-01T07:38:58.250", "UTC", "2026-12-01T07:38:58.25Z"),
        (
            "2026-12-01T09:38:58+02:00",
            "-05:00",
            "2026-12-01T07:38:58Z",
        ),
        ("2026-12-01T07:38:58Z", "UTC", "2026-12-01T07:38:58Z"),
    ];
    for (raw, zone, expected) in cases {
        let d = OtDateTime::parse_in(raw, tz(zone));
        let out = d.to_rfc3339().unwrap();
        assert_eq!(out, expected, "{raw} in {zone}");
        assert!(OffsetDateTime::parse(&out, &Rfc3339).is_ok());
        assert_eq!(serde_json::to_value(&d).unwrap(), expected);
    }
}

#[test]
fn unreadable_dates_are_clear_errors_never_a_guess() {
    for raw in [
        "garbage",
        "",
        "2026-13-01T07:38:58",
        "2026-02-30",
        "2026-12-01T25:00:00",
        "2026-12-01T07:38:58+25:00",
        "2026-12-01T07:38:58 PST",
        "01/12/2026",
        "1764574738",
        "2026-12-01T07:38:58ü",
        "ü2026-12-01T07:38:58",
    ] {
        let d = OtDateTime::parse(raw);
        let err = d.instant().unwrap_err();
        assert_eq!(err, DateError::Unreadable(raw.to_string()));
        assert!(err.to_string().contains(&format!("{raw:?}")), "{err}");
        assert!(d.to_rfc3339().is_err() && d.datetime().is_none());
        assert_eq!(serde_json::to_value(&d).unwrap(), raw, "kept as sent");
    }
}

#[test]
fn out_of_range_after_the_zone_is_an_error_not_a_panic() {
    let d = OtDateTime::parse_in("9999-12-31T23:00:00", tz("-05:00"));
    assert!(matches!(d.instant(), Err(DateError::OutOfRange { .. })));
    let d = OtDateTime::parse_in("0000-01-01T01:00:00", tz("+05:00"));
    assert!(matches!(d.to_rfc3339(), Err(DateError::OutOfRange { .. })));
}

#[test]
fn time_zone_settings() {
    assert_eq!(tz("UTC"), ServerTimeZone::UTC);
    assert_eq!(tz("utc"), ServerTimeZone::UTC);
    assert_eq!(tz("Z"), ServerTimeZone::UTC);
    assert_eq!(tz("+00:00"), ServerTimeZone::UTC);
    assert_eq!(tz("-00:00"), ServerTimeZone::UTC);
    assert_eq!(tz("+02:00").offset(), offset!(+2));
    assert_eq!(tz(" +0530 ").offset(), offset!(+5:30));
    assert_eq!(tz("-03").offset(), offset!(-3));
    assert_eq!(tz("+14:00").offset(), offset!(+14));
    assert_eq!(tz("-12:00").offset(), offset!(-12));
    assert_eq!(ServerTimeZone::default(), ServerTimeZone::UTC);
    assert_eq!(tz("UTC").to_string(), "UTC");
    assert_eq!(tz("+0530").to_string(), "+05:30");
    assert_eq!(tz("-09:30").to_string(), "-09:30");
    for bad in [
        "",
        "CET",
        "GMT+2",
        "+2",
        "02:00",
        "+02:60",
        "+15:00",
        "-13:00",
        "+14:30",
        "+02:00:00",
        "Europe/Berlin",
    ] {
        let err = bad.parse::<ServerTimeZone>().unwrap_err().to_string();
        assert!(
            err.contains(&format!("{bad:?}")) && err.contains("+02:00"),
            "{err}"
        );
    }
    assert!(
        "Europe/Berlin"
            .parse::<ServerTimeZone>()
            .unwrap_err()
            .to_string()
            .contains("named zones are not supported")
    );
}

#[test]
fn deserialized_values_take_the_zone_set_on_the_model() {
    #[derive(Deserialize)]
    struct M {
        #[serde(default, deserialize_with = "opt_date")]
        a: Option<OtDateTime>,
        #[serde(default, deserialize_with = "opt_date")]
        b: Option<OtDateTime>,
    }
    in_zone!(M: a, b);
    let mut m: Vec<M> = serde_json::from_str(r#"[{"a":"2026-12-01T07:38:58","b":""}]"#).unwrap();
    m.set_zone(tz("+02:00"));
    assert_eq!(
        m[0].a.as_ref().unwrap().to_rfc3339().unwrap(),
        "2026-12-01T05:38:58Z"
    );
    assert!(m[0].b.is_none());
}
