//! The OpenText service account every function acts as: its credentials from Secrets
//! Manager, and the Content Server's time zone for the dates it sends without one.

/// The environment variable naming the Content Server's time zone.
pub const OPENTEXT_TIME_ZONE: &str = "OPENTEXT_TIME_ZONE";

/// The Content Server's time zone from `OPENTEXT_TIME_ZONE` (`UTC`, the default when unset
/// or empty, or a fixed offset such as `+02:00`): how the dates OpenText sends without a zone
/// are read. Anything else is refused, naming the variable.
pub fn opentext_time_zone() -> anyhow::Result<opentext_client::model::ServerTimeZone> {
    time_zone_from(std::env::var(OPENTEXT_TIME_ZONE).ok().as_deref())
}

fn time_zone_from(value: Option<&str>) -> anyhow::Result<opentext_client::model::ServerTimeZone> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(opentext_client::model::ServerTimeZone::UTC),
        Some(v) => v
            .parse()
            .map_err(|e| anyhow::anyhow!("environment variable {OPENTEXT_TIME_ZONE}: {e}")),
    }
}

/// The OpenText client of the service account whose credentials are in `secret_id`, and the
/// account's name (for audit events). The password never leaves this function's scope. The
/// client reads zone-less dates in the zone `OPENTEXT_TIME_ZONE` names (an invalid value
/// fails here, before the secret is read).
pub async fn opentext_service_client(
    secrets: &aws_sdk_secretsmanager::Client,
    secret_id: &str,
    base_url: &str,
) -> anyhow::Result<(opentext_client::Client, String)> {
    let time_zone = opentext_time_zone()?;
    let account = records_aws::secrets::service_account(secrets, secret_id).await?;
    let mut credentials =
        opentext_client::Credentials::new(account.username.clone(), account.password.as_str());
    if let Some(domain) = &account.domain {
        credentials = credentials.with_domain(domain.clone());
    }
    let client = opentext_client::Client::builder(base_url)
        .credentials(credentials)
        .time_zone(time_zone)
        .build()?;
    Ok((client, account.username))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_time_zone_defaults_to_utc_and_a_bad_one_names_the_variable() {
        use opentext_client::model::ServerTimeZone;
        assert_eq!(time_zone_from(None).unwrap(), ServerTimeZone::UTC);
        assert_eq!(time_zone_from(Some(" ")).unwrap(), ServerTimeZone::UTC);
        assert_eq!(
            time_zone_from(Some("+02:00")).unwrap().to_string(),
            "+02:00"
        );
        let err = time_zone_from(Some("Europe/Berlin"))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("environment variable OPENTEXT_TIME_ZONE: time zone \"Europe/Berlin\""),
            "{err}"
        );
    }
}
