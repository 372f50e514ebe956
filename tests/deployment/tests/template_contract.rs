//! What `sam deploy` creates must keep the product's promises: private encrypted TLS-only
//! storage, nothing lost (DLQ, visibility), provable (PITR, no TTL on audit), least privilege.

//! P7's publication bucket and distribution are checked in publication_contract.rs.

use deployment_tests::{
    allow_statements, is_publication_grant, resources_of, statement_with, template, yaml_text,
};
use serde_norway::Value;

#[test]
fn buckets_are_versioned_private_encrypted_and_tls_only() {
    let t = template();
    let buckets = resources_of(&t, "AWS::S3::Bucket");
    assert!(!buckets.is_empty());
    let policies = yaml_text(&Value::Sequence(
        resources_of(&t, "AWS::S3::BucketPolicy")
            .into_iter()
            .map(|(_, p)| p.clone())
            .collect(),
    ));
    for (name, p) in buckets {
        assert_eq!(
            p["VersioningConfiguration"]["Status"].as_str(),
            Some("Enabled"),
            "{name}"
        );
        let block = &p["PublicAccessBlockConfiguration"];
        for flag in [
            "BlockPublicAcls",
            "BlockPublicPolicy",
            "IgnorePublicAcls",
            "RestrictPublicBuckets",
        ] {
            assert_eq!(block[flag].as_bool(), Some(true), "{name}.{flag}");
        }
        assert!(p["BucketEncryption"].is_mapping(), "{name} encrypted");
        assert!(policies.contains(name), "{name} has a bucket policy");
    }
    assert!(
        policies.contains("aws:SecureTransport"),
        "TLS-only statement"
    );
}

#[test]
fn every_queue_fed_function_reports_partial_failures_within_a_safe_visibility() {
    let t = template();
    let default_timeout = t["Globals"]["Function"]["Timeout"].as_u64().unwrap();
    for (name, f) in resources_of(&t, "AWS::Serverless::Function") {
        let timeout = f["Timeout"].as_u64().unwrap_or(default_timeout);
        for (_, event) in f["Events"].as_mapping().into_iter().flatten() {
            if event["Type"].as_str() != Some("SQS") {
                continue;
            }
            let types = yaml_text(&event["Properties"]["FunctionResponseTypes"]);
            assert!(types.contains("ReportBatchItemFailures"), "{name}");
            let queue_ref = yaml_text(&event["Properties"]["Queue"]);
            let queue = queue_ref
                .split_whitespace()
                .last()
                .unwrap()
                .trim_end_matches(".Arn");
            let props = &t["Resources"][queue]["Properties"];
            let visibility = props["VisibilityTimeout"].as_u64().unwrap();
            assert!(
                visibility >= 6 * timeout,
                "{queue}: visibility {visibility} < 6 x {timeout}"
            );
            assert!(props["RedrivePolicy"].is_mapping(), "{queue} has a DLQ");
        }
    }
}

#[test]
fn dead_letter_queues_raise_alarms() {
    let t = template();
    let alarms = yaml_text(&Value::Sequence(
        resources_of(&t, "AWS::CloudWatch::Alarm")
            .into_iter()
            .map(|(_, p)| p.clone())
            .collect(),
    ));
    for (name, p) in resources_of(&t, "AWS::SQS::Queue") {
        if p["RedrivePolicy"].is_mapping() {
            continue; // a source queue; its DLQ is checked
        }
        assert!(alarms.contains(name), "DLQ {name} has an alarm");
    }
}

#[test]
fn state_is_recoverable_and_audit_never_expires() {
    let t = template();
    for (name, p) in resources_of(&t, "AWS::DynamoDB::Table") {
        assert_eq!(p["BillingMode"].as_str(), Some("PAY_PER_REQUEST"), "{name}");
        assert_eq!(
            p["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"].as_bool(),
            Some(true),
            "{name} PITR"
        );
        let has_ttl = p["TimeToLiveSpecification"]["Enabled"].as_bool() == Some(true);
        if name.contains("Audit") {
            assert!(!has_ttl, "audit items must never expire");
        } else {
            assert!(has_ttl, "{name}: finished idempotency items expire");
        }
    }
}

#[test]
fn function_policies_are_least_privilege() {
    let t = template();
    for (name, f) in resources_of(&t, "AWS::Serverless::Function") {
        let policies = yaml_text(&f["Policies"]);
        for wildcard in [
            "s3:*",
            "dynamodb:*",
            "secretsmanager:*",
            "sqs:*",
            "Action: '*'",
            "Action: \"*\"",
        ] {
            assert!(!policies.contains(wildcard), "{name} grants {wildcard}");
        }
        // The only Resource "*" allowed: KMS decrypt through S3 (a key policy condition) and
        // s3:CreateJob alone in its statement (IAM knows no resource type for it).
        let unrestricted =
            policies.matches("Resource: '*'").count() + policies.matches("Resource: \"*\"").count();
        let kms_via_s3 = policies.matches("kms:ViaService").count();
        let create_job_alone = policies.matches("Action: s3:CreateJob\n").count();
        assert!(
            unrestricted <= kms_via_s3 + create_job_alone,
            "{name}: unrestricted resources beyond KMS via S3 and s3:CreateJob"
        );
        // A function that may pass a role passes exactly one, to Batch Operations only.
        if policies.contains("iam:PassRole") {
            assert_eq!(policies.matches("iam:PassRole").count(), 1, "{name}");
            assert!(
                policies.contains("iam:PassedToService: batchoperations.s3.amazonaws.com"),
                "{name} passes its role to Batch Operations only"
            );
        }
        assert!(
            !policies.contains("dynamodb:DeleteItem"),
            "{name} cannot delete workflow or audit items"
        );
        // P4's disposers may delete governed versions (by version id, after their checks);
        // nobody else deletes, and nobody deletes anything but governed versions, save P7's
        // publication copies (withdrawn, superseded): the lifecycle worker deletes those, and
        // publication_contract.rs holds its grants there to exactly theirs.
        let disposer = DISPOSERS.contains(&name);
        let publication_deletes: usize = allow_statements(&f["Policies"])
            .filter(|s| is_publication_grant(s))
            .map(|s| yaml_text(&s["Action"]).matches("s3:DeleteObject").count())
            .sum();
        if disposer {
            let statement = allow_statements(&f["Policies"])
                .find(|s| {
                    yaml_text(&s["Action"]).contains("s3:DeleteObjectVersion")
                        && !is_publication_grant(s)
                })
                .unwrap_or_else(|| panic!("{name} disposes: grants s3:DeleteObjectVersion"));
            let resources = yaml_text(&statement["Resource"]);
            assert!(
                resources.contains("-governed-")
                    && !resources.contains("-archive-")
                    && !resources.contains("-audit-"),
                "{name} deletes governed versions only: {resources}"
            );
        }
        let deletes = policies.matches("s3:DeleteObject").count() - publication_deletes;
        assert!(
            deletes == usize::from(disposer),
            "{name}: s3:DeleteObject* granted {deletes} times"
        );
        assert!(
            !policies.contains("s3:BypassGovernanceRetention") || policies.contains("Effect: Deny"),
            "{name} never bypasses governance retention"
        );
    }
}

/// The functions that destroy S3 content on approved disposition (P4).
const DISPOSERS: [&str; 2] = ["LifecycleWorkerFunction", "DispositionBatchTaskFunction"];

#[test]
fn public_function_urls_authenticate_every_call_and_can_do_little() {
    // A Function URL with AuthType NONE is reachable by anyone: the function must
    // authenticate every call itself (the intake: its signing secret; P5's access endpoint:
    // OpenText, asked as the caller) and hold only what its job needs.
    let t = template();
    let mut public = Vec::new();
    for (name, f) in resources_of(&t, "AWS::Serverless::Function") {
        if f["FunctionUrlConfig"]["AuthType"].as_str() != Some("NONE") {
            continue;
        }
        public.push(name.to_string());
        let env = &f["Environment"]["Variables"];
        let reads_only = name == "AccessFunction";
        if reads_only {
            assert!(
                matches!(env["OPENTEXT_BASE_URL"], Value::Tagged(_)),
                "{name}: callers are checked by OpenText"
            );
        } else {
            assert!(
                matches!(env["SIGNING_SECRET_ID"], Value::Tagged(_)),
                "{name}: a public URL needs a signing secret"
            );
        }
        let allowed: &[&str] = if reads_only {
            &[
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "dynamodb:Query",
                "s3:GetObject",
                "s3:GetObjectVersion",
                "s3:GetObjectTagging",
                "s3:GetObjectVersionTagging",
                "kms:Decrypt",
                "secretsmanager:GetSecretValue",
            ]
        } else {
            &[
                "sqs:SendMessage",
                "dynamodb:UpdateItem",
                "secretsmanager:GetSecretValue",
            ]
        };
        for statement in f["Policies"][0]["Statement"].as_sequence().unwrap() {
            let actions: Vec<String> = match &statement["Action"] {
                Value::Sequence(a) => a
                    .iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect(),
                other => vec![other.as_str().unwrap_or_default().to_string()],
            };
            for action in &actions {
                assert!(allowed.contains(&action.as_str()), "{name} grants {action}");
            }
            let resource = yaml_text(&statement["Resource"]);
            if actions.iter().any(|a| a == "dynamodb:UpdateItem") {
                // Only the replay-guard items (event ids), never declarations or audit.
                assert!(
                    yaml_text(&statement["Condition"]).contains("event#*"),
                    "{name}: DynamoDB access limited to event# keys"
                );
            }
            if actions.iter().any(|a| a == "dynamodb:GetItem") {
                assert!(
                    yaml_text(&statement["Condition"]).contains("link#node#*"),
                    "{name}: reads record links only"
                );
            }
            if actions.iter().any(|a| a == "dynamodb:PutItem") {
                assert!(resource.contains("AuditTable"), "{name}: writes audit only");
            }
            if actions.iter().any(|a| a.starts_with("s3:")) {
                assert!(
                    resource.contains("-governed-"),
                    "{name}: governed bucket only"
                );
            }
        }
    }
    assert!(
        public.contains(&"EventIntakeFunction".to_string())
            && public.contains(&"AccessFunction".to_string()),
        "{public:?}"
    );
}

#[test]
fn archive_copies_are_locked_and_the_worker_can_neither_delete_nor_bypass_them() {
    let t = template();
    let archive = &t["Resources"]["ArchiveBucket"]["Properties"];
    assert_eq!(archive["ObjectLockEnabled"].as_bool(), Some(true));
    let worker = &t["Resources"]["LifecycleWorkerFunction"]["Properties"];
    assert!(
        yaml_text(&worker["Environment"]["Variables"]["ARCHIVE_BUCKET"]).contains("ArchiveBucket"),
        "ARCHIVE_BUCKET names the bucket by reference"
    );
    let policies = yaml_text(&worker["Policies"]);
    for forbidden in [
        "s3:BypassGovernanceRetention",
        "s3:PutBucketObjectLockConfiguration",
    ] {
        assert!(!policies.contains(forbidden), "worker grants {forbidden}");
    }
    // It deletes governed versions on approved disposition (P4), never archive copies.
    let delete = statement_with(&worker["Policies"], "s3:DeleteObjectVersion")
        .expect("the worker disposes governed versions");
    assert!(!yaml_text(&delete["Resource"]).contains("-archive-"));
    assert!(policies.contains("-archive-${AWS::AccountId}-${AWS::Region}/*"));
}

/// The logical ids of the roles named by `!GetAtt <Role>.RoleId` anywhere in `v`.
fn role_ids_named(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Tagged(t) if t.tag == "GetAtt" => {
            if let Some(role) = t.value.as_str().and_then(|s| s.strip_suffix(".RoleId")) {
                out.push(role.to_string());
            }
        }
        Value::Tagged(t) => role_ids_named(&t.value, out),
        Value::Sequence(items) => items.iter().for_each(|i| role_ids_named(i, out)),
        Value::Mapping(m) => m.values().for_each(|i| role_ids_named(i, out)),
        _ => {}
    }
}

#[test]
fn the_declare_function_knows_the_role_of_every_function_that_tags_governed_objects() {
    // Each tag written on a governed version comes back as an `ObjectTagging:Put` on the
    // declare queue; declare drops those of records-bridge's own roles (by unique id).
    let t = template();
    let mut writers = Vec::new();
    for (name, f) in resources_of(&t, "AWS::Serverless::Function") {
        let tags_governed = f["Policies"]
            .as_sequence()
            .into_iter()
            .flatten()
            .flat_map(|p| p["Statement"].as_sequence().into_iter().flatten())
            .any(|s| {
                let actions = yaml_text(&s["Action"]);
                s["Effect"].as_str() == Some("Allow")
                    && (actions.contains("s3:PutObjectTagging")
                        || actions.contains("s3:PutObjectVersionTagging"))
                    && yaml_text(&s["Resource"]).contains("-governed-")
            });
        if tags_governed {
            // SAM's implicit role, `<Function>Role`: an explicit one would be named instead.
            assert!(f["Role"].is_null(), "{name}: expected SAM's implicit role");
            writers.push(format!("{name}Role"));
        }
    }
    writers.sort();
    assert_eq!(
        writers,
        ["DeclareFunctionRole", "LifecycleWorkerFunctionRole"],
        "the functions that tag governed versions"
    );

    let ids = &t["Resources"]["DeclareFunction"]["Properties"]["Environment"]["Variables"]["SELF_WRITER_ROLE_IDS"];
    let Value::Tagged(join) = ids else {
        panic!("SELF_WRITER_ROLE_IDS is a !Join of role ids: {ids:?}")
    };
    assert_eq!(join.tag, "Join");
    assert_eq!(join.value[0].as_str(), Some(","), "comma-separated");
    let mut listed = Vec::new();
    role_ids_named(&join.value[1], &mut listed);
    listed.sort();
    assert_eq!(
        listed, writers,
        "SELF_WRITER_ROLE_IDS lists exactly the tag writers' !GetAtt <Role>.RoleId"
    );
}
