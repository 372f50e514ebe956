use opentext_client::{Error, Identity, Secret};

use crate::common::*;

#[tokio::test]
async fn otds_bearer_identity_sees_own_rights() {
    let sim = Sim::start().await;
    let svc = sim.svc();
    let jdoe = svc.as_identity(Identity::Bearer(Secret::new(sim.otds_token("jdoe").await)));
    let outsider = svc.as_identity(Identity::OtdsTicket(Secret::new(
        sim.otds_token("outsider").await,
    )));

    assert_eq!(jdoe.whoami().await.unwrap().id, 1001);
    assert_eq!(outsider.whoami().await.unwrap().name, "outsider");

    let jp = jdoe.my_effective_permissions(FINANCE).await.unwrap();
    assert!(jp.has("see") && jp.has("see_contents"), "{jp:?}");
    assert_eq!(jdoe.get_node(FINANCE).await.unwrap().id, FINANCE);

    let op = outsider.my_effective_permissions(FINANCE).await;
    match op {
        Ok(p) => assert!(!p.has("see"), "outsider sees nothing: {p:?}"),
        Err(e) => assert!(
            matches!(e, Error::NotFound { .. } | Error::Forbidden { .. }),
            "{e:?}"
        ),
    }
    let err = outsider.get_node(FINANCE).await.unwrap_err();
    assert!(
        matches!(err, Error::NotFound { .. } | Error::Forbidden { .. }),
        "{err:?}"
    );

    // The requests were made as the end users, and no service login was needed.
    let log = sim.requests().await;
    assert!(log.iter().any(|r| r["user"] == "jdoe"));
    assert!(log.iter().any(|r| r["user"] == "outsider"));
    assert_eq!(sim.count("POST", "/api/v1/auth").await, 0);

    // A bad token is Unauthorized, without re-auth attempts.
    let bad = svc.as_identity(Identity::Bearer(Secret::new("not-a-token")));
    assert!(matches!(
        bad.get_node(FINANCE).await,
        Err(Error::Unauthorized { .. })
    ));
    assert_eq!(sim.count("POST", "/api/v1/auth").await, 0);
}

#[tokio::test]
async fn effective_permissions_for_service_and_auditor() {
    let sim = Sim::start().await;
    let svc = sim.svc();
    let me = svc.whoami().await.unwrap();
    assert_eq!(me.id, 1003);
    let p = svc.effective_permissions(FINANCE, me.id).await.unwrap();
    assert!(p.has("add_items"), "{p:?}");
    // The auditor asks about itself (asking about others needs edit_permissions).
    let auditor = svc.as_identity(Identity::Bearer(Secret::new(
        sim.otds_token("auditor").await,
    )));
    let p = auditor.my_effective_permissions(2103).await.unwrap();
    assert!(p.has("see") && !p.has("delete"), "{p:?}");
    assert_eq!(p.right_id, Some(1002));
}
