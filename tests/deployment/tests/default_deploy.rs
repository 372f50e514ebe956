//! A `sam deploy` with every default must give a stack whose functions all start and read one
//! records policy: the stack creates that policy (a valid sample), every function that reads a
//! policy reads that one source and may read it, and the public intake cannot starve the rest.

use deployment_tests::{template, yaml_text};
use serde_norway::Value;

/// The functions whose code reads the records policy (their `main.rs` load it).
const POLICY_READERS: [&str; 6] = [
    "DeclareFunction",
    "LifecycleWorkerFunction",
    "EventPollerFunction",
    // Their business events say which RM statuses mean an event-based retention started.
    "ReconcilerFunction",
    "DispositionBatchTaskFunction",
    // Its `access:` section: URL lifetime, whether holds close access.
    "AccessFunction",
];

#[test]
fn the_stack_creates_the_policy_with_a_sample_that_validates() {
    let t = template();
    let p = &t["Resources"]["RecordsPolicyParameter"];
    assert_eq!(p["Type"].as_str(), Some("AWS::SSM::Parameter"));
    let sample = p["Properties"]["Value"]
        .as_str()
        .expect("a literal sample policy");
    let policy = records_domain::Policy::from_yaml(sample).unwrap_or_else(|e| panic!("{e}"));
    assert!(policy.warnings.is_empty(), "{:?}", policy.warnings);
    assert!(
        yaml_text(&p["Properties"]["Name"]).contains("/records-policy"),
        "named for the README's commands"
    );
    // No policy parameter that defaults to blank: a default deploy needs no policy text.
    for (name, param) in t["Parameters"].as_mapping().unwrap() {
        let name = name.as_str().unwrap();
        assert!(
            !name.contains("DeclarationPolicy"),
            "{name}: the policy is not a parameter"
        );
        if name == "RecordsPolicyS3Uri" {
            assert_eq!(
                param["Default"].as_str(),
                Some(""),
                "optional, empty by default"
            );
        }
    }
}

#[test]
fn every_function_that_reads_the_policy_reads_the_one_source_and_may() {
    let t = template();
    for name in POLICY_READERS {
        let f = &t["Resources"][name]["Properties"];
        let env = &f["Environment"]["Variables"];
        assert_eq!(
            yaml_text(&env["RECORDS_POLICY_PARAMETER"]).trim(),
            "!Ref RecordsPolicyParameter",
            "{name} reads the stack's policy parameter"
        );
        assert_eq!(
            yaml_text(&env["RECORDS_POLICY_S3_URI"]).trim(),
            "!Ref RecordsPolicyS3Uri",
            "{name} reads an S3 policy when one is configured"
        );
        assert!(env["RECORDS_POLICY"].is_null(), "{name}: no inline policy");
        let policies = yaml_text(&f["Policies"]);
        assert!(
            policies.contains("ssm:GetParameter") && policies.contains("/records-policy"),
            "{name} may read the policy parameter"
        );
        assert!(
            policies.contains("HasPolicyS3Uri") && policies.contains("RecordsPolicyS3Uri"),
            "{name} may read the S3 policy object when one is configured"
        );
    }
    // Nobody else is told about a policy they would not read.
    for (name, r) in t["Resources"].as_mapping().unwrap() {
        let name = name.as_str().unwrap();
        if r["Type"].as_str() == Some("AWS::Serverless::Function")
            && !POLICY_READERS.contains(&name)
        {
            assert!(
                r["Properties"]["Environment"]["Variables"]["RECORDS_POLICY_PARAMETER"].is_null(),
                "{name}"
            );
        }
    }
}

#[test]
fn every_queue_refuses_insecure_transport() {
    let t = template();
    let resources = t["Resources"].as_mapping().unwrap();
    let queue_policies: Vec<&Value> = resources
        .values()
        .filter(|r| r["Type"].as_str() == Some("AWS::SQS::QueuePolicy"))
        .map(|r| &r["Properties"])
        .collect();
    for (name, r) in resources {
        let name = name.as_str().unwrap();
        if r["Type"].as_str() != Some("AWS::SQS::Queue") {
            continue;
        }
        let covered = queue_policies.iter().any(|p| {
            let names_queue = p["Queues"]
                .as_sequence()
                .into_iter()
                .flatten()
                .any(|q| yaml_text(q).trim() == format!("!Ref {name}"));
            let denies_insecure = p["PolicyDocument"]["Statement"]
                .as_sequence()
                .into_iter()
                .flatten()
                .any(|s| {
                    s["Effect"].as_str() == Some("Deny")
                        && s["Condition"]["Bool"]["aws:SecureTransport"].as_str() == Some("false")
                        && yaml_text(&s["Resource"]).contains(name)
                });
            names_queue && denies_insecure
        });
        assert!(covered, "{name} has a TLS-only queue policy");
    }
}

#[test]
fn the_public_intake_has_reserved_concurrency() {
    let t = template();
    for (name, r) in t["Resources"].as_mapping().unwrap() {
        let f = &r["Properties"];
        if f["FunctionUrlConfig"]["AuthType"].as_str() == Some("NONE") {
            assert_eq!(
                yaml_text(&f["ReservedConcurrentExecutions"]).trim(),
                "!Ref IntakeReservedConcurrency",
                "{name:?}: a flood of calls to a public URL is capped"
            );
            let default = t["Parameters"]["IntakeReservedConcurrency"]["Default"]
                .as_u64()
                .unwrap();
            assert!((1..=10).contains(&default), "a small default: {default}");
        }
    }
}
