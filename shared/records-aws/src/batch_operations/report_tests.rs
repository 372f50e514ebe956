use super::*;

/// AWS's documented top-level manifest (batch-ops-examples-reports).
const MANIFEST: &str = r#"{
    "Format": "Report_CSV_20180820",
    "ReportCreationDate": "2019-04-05T17:48:39.725Z",
    "Results": [
        {
            "TaskExecutionStatus": "succeeded",
            "Bucket": "my-job-reports",
            "MD5Checksum": "83b1c4cbe93fc893f54053697e10fd6e",
            "Key": "job-f8fb9d89-a3aa-461d-bddc-ea6a1b131955/results/6217b0fab0de85c408b4be96aeaca9b195a7daa5.csv"
        },
        {
            "TaskExecutionStatus": "failed",
            "Bucket": "my-job-reports",
            "MD5Checksum": "22ee037f3515975f7719699e5c416eaa",
            "Key": "job-f8fb9d89-a3aa-461d-bddc-ea6a1b131955/results/b2ddad417e94331e9f37b44f1faf8c7ed5873f2e.csv"
        }
    ],
    "ReportSchema": "Bucket, Key, VersionId, TaskStatus, ErrorCode, HTTPStatusCode, ResultMessage"
}"#;

#[test]
fn the_documented_report_manifest_lists_its_result_files() {
    let files = parse_report_manifest(MANIFEST).unwrap();
    assert_eq!(files.len(), 2);
    assert_eq!(files[0].task_execution_status, "succeeded");
    assert_eq!(files[1].bucket, "my-job-reports");
    assert!(
        files[1]
            .key
            .ends_with("b2ddad417e94331e9f37b44f1faf8c7ed5873f2e.csv")
    );
    assert_eq!(
        files[1].md5.as_deref(),
        Some("22ee037f3515975f7719699e5c416eaa")
    );
    assert!(parse_report_manifest(r#"{"Format":"Other","Results":[]}"#).is_err());
    assert!(parse_report_manifest("not json").is_err());
    assert_eq!(
        report_manifest_key("reports/dispositions/", "j-1"),
        "reports/dispositions/job-j-1/manifest.json"
    );
}

#[test]
fn the_documented_failed_row_shape_parses() {
    // Verbatim shape of AWS's failed-tasks example (status before error code).
    let csv = "awsexamplebucket1,image_14975,,failed,200,PermanentFailure,\"Lambda returned function error: {\"\"errorMessage\"\":\"\"2019-04-05T17:35:21.155Z 2845ca0d Task timed out after 3.00 seconds\"\"}\"\n";
    let rows = parse_report_csv(csv).unwrap();
    assert_eq!(rows.len(), 1);
    let r = &rows[0];
    assert_eq!(
        (r.bucket.as_str(), r.raw_key.as_str(), r.version_id.as_str()),
        ("awsexamplebucket1", "image_14975", "")
    );
    assert_eq!(r.task_status, "failed");
    assert_eq!(r.error_code, "PermanentFailure");
    assert_eq!(r.http_status, Some(200));
    assert!(
        r.result_message
            .contains(r#"{"errorMessage":"2019-04-05T17:35:21.155Z"#)
    );
    assert!(
        matches!(&r.outcome, TaskOutcome::Failed { error_code, .. } if error_code == "PermanentFailure")
    );
}

#[test]
fn our_result_strings_fold_back_into_outcomes() {
    let csv = concat!(
        "gov,finance/a%20b%2Bc.pdf,v1,succeeded,200,,deleted\n",
        "gov,finance/gone.pdf,v2,succeeded,200,,already gone\r\n",
        "gov,legal/held.pdf,v3,failed,PermanentFailure,200,\"refused: record 101 is under OpenText hold 6100; S3 legal hold is on for s3://gov/legal/held.pdf?versionId=v3\"\n",
        "gov,legal/x.pdf,v4,failed,200,TemporaryFailure,\"OpenText: unreachable, timed out\nafter retries\"\n",
        "gov,odd%ZZ,v5,succeeded,200,,something else\n",
        "gov,finance/b.pdf,v6,succeeded,200,,deleted at 2026-12-01T10:00:00Z\n",
    );
    let rows = parse_report_csv(csv).unwrap();
    assert_eq!(rows.len(), 6);
    assert_eq!(
        rows[5].outcome,
        TaskOutcome::Deleted {
            at: Some(time::macros::datetime!(2026-12-01 10:00:00 UTC))
        }
    );
    assert_eq!(rows[0].outcome, TaskOutcome::Deleted { at: None });
    assert_eq!(rows[0].key.as_deref(), Some("finance/a b+c.pdf"));
    assert_eq!(rows[1].outcome, TaskOutcome::AlreadyGone);
    assert_eq!(rows[1].version_id, "v2");
    match &rows[2].outcome {
        TaskOutcome::Refused(why) => {
            assert!(why.starts_with("record 101 is under OpenText hold 6100; S3 legal hold"))
        }
        other => panic!("{other:?}"),
    }
    // ErrorCode first (as ReportSchema names it) is read the same way.
    assert_eq!(
        (rows[2].error_code.as_str(), rows[2].http_status),
        ("PermanentFailure", Some(200))
    );
    assert_eq!(
        rows[3].result_message,
        "OpenText: unreachable, timed out\nafter retries"
    );
    assert!(
        matches!(&rows[3].outcome, TaskOutcome::Failed { error_code, .. } if error_code == "TemporaryFailure")
    );
    assert_eq!(
        rows[4].key, None,
        "an undecodable key is kept raw, not guessed"
    );
    assert_eq!(
        rows[4].outcome,
        TaskOutcome::Unrecognised("something else".into())
    );
}

#[test]
fn broken_reports_are_errors_not_panics() {
    assert!(parse_report_csv("a,b,c\n").is_err());
    assert!(parse_report_csv("a,b,c,failed,200,X,\"unterminated\n").is_err());
    assert!(parse_report_csv("").unwrap().is_empty());
    assert!(parse_report_csv("\n\n").unwrap().is_empty());
}
