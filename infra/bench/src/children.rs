//! The baselines, each in its own process (as the function is) so its peak RSS is its
//! own: (a) the S3 read alone, (b) the OpenText upload alone.

use super::*;

pub(crate) async fn run_child(args: &[String]) -> Result<Value> {
    let exe = std::env::current_exe()?;
    let out = tokio::process::Command::new(exe)
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .await?;
    ensure!(
        out.status.success(),
        "baseline child {args:?} failed: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    Ok(serde_json::from_slice(&out.stdout)?)
}

pub(crate) async fn baseline_s3_read(stack: &Stack, obj: &Object) -> Result<Baseline> {
    let bucket = stack.resource("GovernedBucket");
    s3_read_in_child(stack.moto.endpoint(), &bucket, obj, Some(&obj.version_id)).await
}

/// (a): `obj` read from the S3 at `endpoint` by a child process, its byte count checked.
pub(crate) async fn s3_read_in_child(
    endpoint: &str,
    bucket: &str,
    obj: &Object,
    version_id: Option<&str>,
) -> Result<Baseline> {
    let mut args = vec![
        "s3-read".to_string(),
        "--endpoint".into(),
        endpoint.to_string(),
        "--bucket".into(),
        bucket.to_string(),
        "--key".into(),
        obj.key.clone(),
    ];
    if let Some(v) = version_id {
        args.extend(["--version-id".into(), v.to_string()]);
    }
    let v = run_child(&args).await?;
    ensure!(
        v["bytes"].as_u64() == Some(obj.size),
        "S3 read gave {} bytes, expected {}",
        v["bytes"],
        obj.size
    );
    Ok(Baseline {
        secs: v["secs"].as_f64().unwrap_or(0.0),
        first_byte_secs: v["first_byte_secs"].as_f64().unwrap_or(0.0),
        hwm: v["vmhwm_bytes"].as_u64().unwrap_or(0),
    })
}

pub(crate) async fn baseline_ot_upload(
    stack: &Stack,
    obj: &Object,
    run: usize,
) -> Result<Baseline> {
    let args = vec![
        "ot-upload".to_string(),
        "--base".into(),
        stack.sim.base_url(),
        "--size".into(),
        obj.size.to_string(),
        "--name".into(),
        format!("baseline-{}m-{run}.bin", obj.size / MIB),
    ];
    let v = run_child(&args).await?;
    ensure!(
        v["sha256"].as_str() == Some(&obj.sha256),
        "the baseline upload streamed other bytes than the S3 object"
    );
    let node = stack.sim_admin(&format!("nodes/{}", v["node_id"])).await?;
    ensure!(
        node["versions"][0]["sha256"].as_str() == Some(&obj.sha256),
        "the simulator stored other bytes for the baseline upload: {}",
        node["versions"][0]
    );
    Ok(Baseline {
        secs: v["secs"].as_f64().unwrap_or(0.0),
        first_byte_secs: 0.0,
        hwm: v["vmhwm_bytes"].as_u64().unwrap_or(0),
    })
}

// ------------------------------------------------------------------ baseline children

pub(crate) async fn child_s3_read(
    endpoint: &str,
    bucket: &str,
    key: &str,
    version_id: Option<&str>,
) -> Result<()> {
    let sdk = local_stack::sdk_config(endpoint).await;
    let s3 = local_stack::s3_client(&sdk);
    let started = Instant::now();
    let out = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .set_version_id(version_id.map(str::to_string))
        .send()
        .await
        .with_context(|| format!("GetObject {key}"))?;
    let mut body = out.body;
    let mut bytes = 0u64;
    let mut first_byte_secs = None;
    while let Some(chunk) = body.try_next().await? {
        first_byte_secs.get_or_insert_with(|| started.elapsed().as_secs_f64());
        bytes += chunk.len() as u64;
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{}",
        json!({"secs": secs, "first_byte_secs": first_byte_secs, "bytes": bytes, "vmhwm_bytes": vm_field(std::process::id(), "VmHWM:")?})
    );
    Ok(())
}

pub(crate) async fn child_ot_upload(base: &str, size: u64, name: &str) -> Result<()> {
    let client = opentext_client::Client::new(
        base,
        opentext_client::Credentials::new(SIM_SERVICE_USER, SIM_SERVICE_PASSWORD),
    )?;
    let source = Arc::new(content::Generated::new(size, name));
    let started = Instant::now();
    let node = client
        .create_document(
            FOLDER,
            name,
            source.clone(),
            &opentext_client::CreateOptions::default(),
        )
        .await?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{}",
        json!({
            "secs": secs,
            "node_id": node.id,
            "sha256": source.sha256(),
            "vmhwm_bytes": vm_field(std::process::id(), "VmHWM:")?,
        })
    );
    Ok(())
}
