//! Object store destinations (feature `object-store`): registered by name on the builder.

mod common;

use std::sync::Arc;
use std::time::Duration;

use lowcodeapi_runwayml_jobs::{Destination, JobState, Jobs};
use object_store::ObjectStoreExt as _;
use sha2::Digest as _;

fn builder(url: &str) -> lowcodeapi_runwayml_jobs::JobsBuilder {
    Jobs::builder(url)
        .poll_interval(Duration::from_millis(10))
        .idle_interval(Duration::from_millis(10))
        .retry_backoff(Duration::from_millis(50))
        .lease(Duration::from_secs(5))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn a_job_stores_its_video_in_a_registered_object_store() {
    let dir = tempfile::tempdir().unwrap();
    for (kind, url) in common::stores(dir.path(), "object_store").await {
        let sim = common::simulator(1000.0, 5.0).await;
        let bucket = Arc::new(object_store::memory::InMemory::new());
        let jobs = builder(&url)
            .client(common::client(&sim))
            .object_store("videos", bucket.clone())
            .open()
            .await
            .unwrap();
        let id = jobs
            .submit(
                common::request(0),
                Destination::object_store("videos", "renders/"),
            )
            .await
            .unwrap();
        jobs.run_until_settled(1).await.unwrap();
        let status = jobs.status(id).await.unwrap();
        assert_eq!(status.state, JobState::Succeeded, "{kind}: {status:?}");
        assert_eq!(sim.accepted_creates(), 1, "{kind}");
        let task = status.task_id.clone().unwrap();
        let output = &status.outputs[0];
        assert_eq!(output.store.as_deref(), Some("videos"), "{kind}");
        let location = output.path.to_str().unwrap();
        assert!(
            location.starts_with(&format!("renders/{task}.")),
            "{kind}: {location}"
        );
        let object = bucket
            .get(&object_store::path::Path::parse(location).unwrap())
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert!(!object.is_empty());
        assert_eq!(object.len() as u64, output.bytes, "{kind}");
        assert_eq!(hex(&sha2::Sha256::digest(&object)), output.sha256, "{kind}");
    }
}

#[tokio::test]
async fn a_job_naming_a_store_this_worker_lacks_fails_before_anything_is_paid_for() {
    let dir = tempfile::tempdir().unwrap();
    for (kind, url) in common::stores(dir.path(), "object_store_missing").await {
        let sim = common::simulator(1000.0, 5.0).await;
        let jobs = builder(&url)
            .client(common::client(&sim))
            .object_store("videos", Arc::new(object_store::memory::InMemory::new()))
            .open()
            .await
            .unwrap();
        let id = jobs
            .submit(common::request(0), Destination::object_store("archive", ""))
            .await
            .unwrap();
        jobs.run_until_settled(1).await.unwrap();
        let status = jobs.status(id).await.unwrap();
        assert_eq!(status.state, JobState::Failed, "{kind}: {status:?}");
        assert_eq!(sim.accepted_creates(), 0, "{kind}: nothing was created");
        let error = status.error.unwrap();
        assert!(
            error.contains("\"archive\"") && error.contains("JobsBuilder::object_store"),
            "{kind}: {error}"
        );
    }
}
