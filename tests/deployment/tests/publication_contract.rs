//! P7 controlled publication: approved documents are copied to a private bucket and served
//! publicly only through CloudFront, only from its `public/` prefix, and only the lifecycle
//! worker may write, withdraw or invalidate them.

use std::collections::{BTreeMap, BTreeSet};

use deployment_tests::{allow_statements, is_publication_grant, resources_of, template, yaml_text};
use serde_norway::Value;

/// The one function that publishes.
const PUBLISHER: &str = "LifecycleWorkerFunction";

/// `!<tag> <value>` → `<value>`, for the expected tag only.
fn tagged<'a>(v: &'a Value, tag: &str) -> Option<&'a Value> {
    match v {
        Value::Tagged(t) if t.tag == tag => Some(&t.value),
        _ => None,
    }
}

/// The text of a `!<tag> "<text>"` value (`!Sub "…"`, `!Ref X`, `!GetAtt X.Y`).
fn tagged_str<'a>(v: &'a Value, tag: &str) -> Option<&'a str> {
    tagged(v, tag).and_then(Value::as_str)
}

/// A statement's actions, whether one string or a list.
fn actions(statement: &Value) -> Vec<String> {
    match &statement["Action"] {
        Value::Sequence(a) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        other => other.as_str().map(str::to_string).into_iter().collect(),
    }
}

const DISTRIBUTION_ARN: &str =
    "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${PublicationDistribution}";

#[test]
fn publication_is_private_behind_cloudfront_and_only_public_keys_are_served() {
    let t = template();
    let r = &t["Resources"];

    // The bucket: private, owner-enforced, encrypted, versioned, no Object Lock (a
    // withdrawal deletes at once).
    let bucket = &r["PublicationBucket"];
    assert_eq!(bucket["Type"].as_str(), Some("AWS::S3::Bucket"));
    let b = &bucket["Properties"];
    for flag in [
        "BlockPublicAcls",
        "BlockPublicPolicy",
        "IgnorePublicAcls",
        "RestrictPublicBuckets",
    ] {
        assert_eq!(
            b["PublicAccessBlockConfiguration"][flag].as_bool(),
            Some(true),
            "PublicationBucket.{flag}"
        );
    }
    assert_eq!(
        yaml_text(&b["OwnershipControls"]).trim(),
        "Rules:\n- ObjectOwnership: BucketOwnerEnforced",
        "no ACLs can open an object"
    );
    // SSE-S3: CloudFront's origin access control cannot read objects under the AWS managed
    // aws/s3 KMS key, which would make every publication fail to serve.
    let sse = &b["BucketEncryption"]["ServerSideEncryptionConfiguration"][0];
    assert_eq!(
        sse["ServerSideEncryptionByDefault"]["SSEAlgorithm"].as_str(),
        Some("AES256")
    );
    assert_eq!(
        b["VersioningConfiguration"]["Status"].as_str(),
        Some("Enabled")
    );
    assert!(b["ObjectLockEnabled"].is_null(), "no Object Lock");

    // Its policy: TLS only; the one Allow is this stack's distribution reading public/.
    let policies: Vec<&Value> = resources_of(&t, "AWS::S3::BucketPolicy")
        .into_iter()
        .filter(|(_, p)| tagged_str(&p["Bucket"], "Ref") == Some("PublicationBucket"))
        .map(|(_, p)| p)
        .collect();
    assert_eq!(policies.len(), 1, "one policy on the publication bucket");
    let statements = policies[0]["PolicyDocument"]["Statement"]
        .as_sequence()
        .unwrap();
    for s in statements {
        for widening in ["NotPrincipal", "NotAction", "NotResource"] {
            assert!(s[widening].is_null(), "{widening} in {}", yaml_text(s));
        }
    }
    assert!(
        statements.iter().any(|s| {
            let resources = yaml_text(&s["Resource"]);
            s["Effect"].as_str() == Some("Deny")
                && s["Condition"]["Bool"]["aws:SecureTransport"].as_str() == Some("false")
                && resources.contains("${PublicationBucket}\n")
                && resources.contains("${PublicationBucket}/*")
        }),
        "TLS-only on the bucket and its objects"
    );
    let allows: Vec<&Value> = statements
        .iter()
        .filter(|s| s["Effect"].as_str() == Some("Allow"))
        .collect();
    assert_eq!(allows.len(), 1, "one Allow: {allows:?}");
    let allow = allows[0];
    assert_eq!(
        yaml_text(&allow["Principal"]).trim(),
        "Service: cloudfront.amazonaws.com",
        "the CloudFront service principal only"
    );
    assert_eq!(actions(allow), ["s3:GetObject"], "reads only");
    assert_eq!(
        tagged_str(&allow["Resource"], "Sub"),
        Some("${PublicationBucket.Arn}/public/*"),
        "public/ only: internal/ is never served"
    );
    assert_eq!(
        yaml_text(&allow["Condition"]),
        yaml_text(
            &serde_norway::from_str::<Value>(&format!(
                "StringEquals: {{ 'AWS:SourceArn': !Sub '{DISTRIBUTION_ARN}' }}"
            ))
            .unwrap()
        ),
        "only this stack's distribution"
    );

    // The distribution: one S3 origin, public/ of the bucket, signed by an origin access
    // control (sigv4, always), HTTPS for viewers, reads only, no other path.
    let d = &r["PublicationDistribution"];
    assert_eq!(d["Type"].as_str(), Some("AWS::CloudFront::Distribution"));
    let config = &d["Properties"]["DistributionConfig"];
    assert_eq!(config["Enabled"].as_bool(), Some(true));
    let origins = config["Origins"].as_sequence().unwrap();
    assert_eq!(origins.len(), 1, "one origin");
    let origin = &origins[0];
    assert_eq!(
        tagged_str(&origin["DomainName"], "GetAtt"),
        Some("PublicationBucket.RegionalDomainName")
    );
    assert_eq!(origin["OriginPath"].as_str(), Some("/public"));
    assert_eq!(
        origin["S3OriginConfig"]["OriginAccessIdentity"].as_str(),
        Some(""),
        "no legacy origin access identity"
    );
    let oac = tagged_str(&origin["OriginAccessControlId"], "GetAtt")
        .and_then(|s| s.strip_suffix(".Id"))
        .expect("OriginAccessControlId: !GetAtt <OAC>.Id");
    assert_eq!(
        r[oac]["Type"].as_str(),
        Some("AWS::CloudFront::OriginAccessControl")
    );
    let oac = &r[oac]["Properties"]["OriginAccessControlConfig"];
    assert_eq!(oac["OriginAccessControlOriginType"].as_str(), Some("s3"));
    assert_eq!(oac["SigningProtocol"].as_str(), Some("sigv4"));
    assert_eq!(oac["SigningBehavior"].as_str(), Some("always"));
    let behavior = &config["DefaultCacheBehavior"];
    assert_eq!(behavior["TargetOriginId"], origin["Id"]);
    assert_eq!(
        behavior["ViewerProtocolPolicy"].as_str(),
        Some("redirect-to-https")
    );
    assert_eq!(
        yaml_text(&behavior["AllowedMethods"]).trim(),
        "- GET\n- HEAD",
        "reads only"
    );
    for other_path in ["CacheBehaviors", "OriginGroups"] {
        assert!(config[other_path].is_null(), "{other_path}: no other path");
    }

    // Grants: only the worker, and exactly these.
    let expected = BTreeMap::from([
        (
            "!Sub ${PublicationBucket.Arn}/*".to_string(),
            BTreeSet::from([
                "s3:PutObject",
                "s3:GetObject",
                "s3:GetObjectVersion",
                "s3:DeleteObject",
                "s3:DeleteObjectVersion",
            ]),
        ),
        (
            "!GetAtt PublicationBucket.Arn".to_string(),
            BTreeSet::from(["s3:ListBucket", "s3:ListBucketVersions"]),
        ),
        (
            format!("!Sub {DISTRIBUTION_ARN}"),
            BTreeSet::from([
                "cloudfront:CreateInvalidation",
                "cloudfront:GetInvalidation",
                "cloudfront:ListInvalidations",
            ]),
        ),
    ]);
    let mut granted: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (name, f) in resources_of(&t, "AWS::Serverless::Function") {
        let text = yaml_text(&f["Policies"]);
        assert!(
            !text.contains("cloudfront:*") && !text.contains("s3:*"),
            "{name}: no wildcard actions"
        );
        for s in allow_statements(&f["Policies"]) {
            let acts = actions(s);
            let unrestricted = matches!(s["Resource"].as_str(), Some("*"));
            if unrestricted {
                // Resource "*" would reach the publication bucket and distribution too.
                assert!(
                    acts.iter().all(|a| {
                        !a.starts_with("cloudfront:")
                            && (!a.starts_with("s3:") || a == "s3:CreateJob")
                    }),
                    "{name}: {acts:?} on every resource"
                );
            }
            if !is_publication_grant(s) {
                continue;
            }
            assert_eq!(name, PUBLISHER, "{name} has publication grants: {acts:?}");
            assert!(!s["Resource"].is_sequence(), "one resource per grant");
            let resource = yaml_text(&s["Resource"]).trim().to_string();
            granted.entry(resource).or_default().extend(acts);
        }
    }
    let granted: BTreeMap<String, BTreeSet<&str>> = granted
        .iter()
        .map(|(r, a)| (r.clone(), a.iter().map(String::as_str).collect()))
        .collect();
    assert_eq!(granted, expected, "the worker's publication grants");

    // Nothing else may act on them either (roles, other policies).
    for (name, res) in r.as_mapping().unwrap() {
        let name = name.as_str().unwrap();
        if res["Type"].as_str() == Some("AWS::IAM::Role") {
            assert!(
                !yaml_text(&res["Properties"]["Policies"]).contains("Publication"),
                "{name} has publication grants"
            );
        }
    }
}

#[test]
fn the_worker_is_told_where_to_publish_and_the_stack_where_it_is_served() {
    let t = template();
    let env = &t["Resources"][PUBLISHER]["Properties"]["Environment"]["Variables"];
    assert_eq!(
        tagged_str(&env["PUBLICATION_BUCKET"], "Ref"),
        Some("PublicationBucket")
    );
    assert_eq!(
        tagged_str(&env["PUBLICATION_DISTRIBUTION_ID"], "Ref"),
        Some("PublicationDistribution"),
        "the id (for invalidations)"
    );
    let base_url = Some("https://${PublicationDistribution.DomainName}");
    assert_eq!(tagged_str(&env["PUBLICATION_BASE_URL"], "Sub"), base_url);

    let out = &t["Outputs"];
    assert_eq!(
        tagged_str(&out["PublicationBucketName"]["Value"], "Ref"),
        Some("PublicationBucket")
    );
    assert_eq!(
        tagged_str(&out["PublicationDistributionId"]["Value"], "Ref"),
        Some("PublicationDistribution")
    );
    assert_eq!(tagged_str(&out["PublicationUrl"]["Value"], "Sub"), base_url);

    // The price class is the operator's, with a cheap default.
    let price = &t["Parameters"]["PublicationPriceClass"];
    assert_eq!(price["Default"].as_str(), Some("PriceClass_100"));
    assert_eq!(
        tagged_str(
            &t["Resources"]["PublicationDistribution"]["Properties"]["DistributionConfig"]["PriceClass"],
            "Ref"
        ),
        Some("PublicationPriceClass")
    );
}
