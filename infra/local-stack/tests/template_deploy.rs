//! The local stack is derived from the real template.yaml: this proves the derivation
//! creates what the template declares, wired the same way.

use std::collections::BTreeMap;

use aws_sdk_sqs::types::QueueAttributeName;
use local_stack::template::Template;

#[tokio::test]
async fn template_resources_are_created_and_wired_in_moto() {
    let (_moto, sdk) = test_support::stack::moto().await;
    let template = Template::load(&local_stack::workspace_root().join("template.yaml")).unwrap();
    let overrides = BTreeMap::from([(
        "OpenTextBaseUrl".to_string(),
        "http://127.0.0.1:1/otcs/cs.exe".to_string(),
    )]);
    let deployed = template.deploy(&sdk, "rb", &overrides).await.unwrap();

    let bucket = deployed.reference("GovernedBucket").unwrap().to_string();
    let queue_url = deployed.reference("DeclareQueue").unwrap().to_string();
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(&queue_url)
        .attribute_names(QueueAttributeName::All)
        .send()
        .await
        .unwrap();
    let attrs = attrs.attributes().unwrap();
    assert_eq!(attrs[&QueueAttributeName::VisibilityTimeout], "1800");
    let redrive: serde_json::Value =
        serde_json::from_str(&attrs[&QueueAttributeName::RedrivePolicy]).unwrap();
    assert!(
        redrive["deadLetterTargetArn"]
            .as_str()
            .unwrap()
            .ends_with("declare-dead-letter-queue")
    );
    assert_eq!(
        redrive["maxReceiveCount"].to_string().trim_matches('"'),
        "5"
    );

    let env = template
        .function_environment("DeclareFunction", &deployed)
        .unwrap();
    assert_eq!(env["OPENTEXT_BASE_URL"], "http://127.0.0.1:1/otcs/cs.exe");
    assert_eq!(
        env["WORKFLOW_TABLE"],
        deployed.reference("WorkflowTable").unwrap()
    );
    assert_eq!(env["RUST_LOG"], "info");
    assert!(env["OPENTEXT_SECRET_ID"].starts_with("arn:aws:secretsmanager:"));
    // `!Join` of the tag writers' `!GetAtt <Role>.RoleId`, with local stand-in role ids.
    assert_eq!(
        env["SELF_WRITER_ROLE_IDS"],
        format!(
            "{},{}",
            local_stack::template::local_role_id("DeclareFunctionRole"),
            local_stack::template::local_role_id("LifecycleWorkerFunctionRole")
        )
    );
    records_domain::SelfWriters::parse(&env["SELF_WRITER_ROLE_IDS"]).expect("role ids parse");
    assert_eq!(
        template.function_queue("DeclareFunction").as_deref(),
        Some("DeclareQueue")
    );

    // The bucket notifies the queue, as S3 would in AWS.
    let s3 = local_stack::s3_client(&sdk);
    s3.put_object()
        .bucket(&bucket)
        .key("in/x.txt")
        .body(aws_sdk_s3::primitives::ByteStream::from_static(b"abc"))
        .send()
        .await
        .unwrap();
    let mut bodies = Vec::new();
    for _ in 0..3 {
        let got = sqs
            .receive_message()
            .queue_url(&queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        bodies.extend(
            got.messages()
                .iter()
                .filter_map(|m| m.body().map(str::to_string)),
        );
        if bodies.iter().any(|b| b.contains("ObjectCreated")) {
            break;
        }
    }
    assert!(
        bodies
            .iter()
            .any(|b| b.contains("ObjectCreated:Put") && b.contains(&bucket)),
        "{bodies:?}"
    );
}

#[tokio::test]
async fn the_publication_distribution_is_created_in_moto_and_the_worker_is_told_of_it() {
    let (_moto, sdk) = test_support::stack::moto().await;
    let template = Template::load(&local_stack::workspace_root().join("template.yaml")).unwrap();
    let overrides = BTreeMap::from([(
        "OpenTextBaseUrl".to_string(),
        "http://127.0.0.1:1/otcs/cs.exe".to_string(),
    )]);
    let deployed = template.deploy(&sdk, "rb", &overrides).await.unwrap();

    let bucket = deployed.reference("PublicationBucket").unwrap().to_string();
    let versioning = local_stack::s3_client(&sdk)
        .get_bucket_versioning()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    assert_eq!(
        versioning.status(),
        Some(&aws_sdk_s3::types::BucketVersioningStatus::Enabled)
    );

    // The distribution `!Ref PublicationDistribution` names is moto's, over the bucket's
    // public/ prefix. (moto's distribution answers are read by the local stack: the SDK
    // reads neither CreateDistribution's nor GetDistribution's.)
    let cloudfront = aws_sdk_cloudfront::Client::new(&sdk);
    let id = deployed.reference("PublicationDistribution").unwrap();
    let distribution = local_stack::template::get_distribution(&cloudfront, id)
        .await
        .unwrap();
    assert_eq!(distribution.id, id);
    assert_eq!(
        distribution.arn,
        deployed
            .attribute("PublicationDistribution", "Arn")
            .unwrap()
    );
    assert!(distribution.arn.ends_with(&format!(":distribution/{id}")));
    assert!(
        distribution.domain_name.ends_with(".cloudfront.net"),
        "{distribution:?}"
    );
    assert!(distribution.enabled);
    assert_eq!(distribution.origins.len(), 1, "{distribution:?}");
    assert_eq!(distribution.origins[0].origin_path, "/public");
    assert_eq!(
        distribution.origins[0].domain_name,
        format!("{bucket}.s3.us-east-1.amazonaws.com")
    );
    assert_eq!(distribution.viewer_protocol_policy, "redirect-to-https");
    assert!(
        local_stack::template::get_distribution(&cloudfront, "E0NOSUCHDIST")
            .await
            .is_err(),
        "an unknown distribution is an error, not an empty one"
    );

    // Its origin access control exists in moto too, signing every request.
    let oac = cloudfront
        .get_origin_access_control()
        .id(deployed
            .reference("PublicationOriginAccessControl")
            .unwrap())
        .send()
        .await
        .unwrap();
    let oac = oac
        .origin_access_control()
        .unwrap()
        .origin_access_control_config()
        .unwrap();
    assert_eq!(
        oac.name(),
        "rb-publication",
        "!Sub ${{AWS::StackName}}-publication"
    );
    assert_eq!(oac.signing_protocol().as_str(), "sigv4");
    assert_eq!(oac.signing_behavior().as_str(), "always");
    assert_eq!(oac.origin_access_control_origin_type().as_str(), "s3");

    // The worker's environment names the local bucket and distribution.
    let env = template
        .function_environment("LifecycleWorkerFunction", &deployed)
        .unwrap();
    assert_eq!(env["PUBLICATION_BUCKET"], bucket);
    assert_eq!(env["PUBLICATION_DISTRIBUTION_ID"], id);
    assert_eq!(
        env["PUBLICATION_BASE_URL"],
        format!("https://{}", distribution.domain_name)
    );
}
