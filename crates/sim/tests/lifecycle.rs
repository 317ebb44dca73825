//! Tasks over simulated time: states, progress, outcomes, cancel and delete.

mod common;

use std::time::Duration;

use common::*;
use lowcodeapi_runwayml_sim::{Outcome, Removal, Simulator, Timeline};
use serde_json::{Value, json};

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

async fn get(sim: &Simulator, id: &str) -> (u16, Value) {
    let a = send(
        "GET",
        &sim.url(&format!("/v1/tasks/{id}?api_token={TOKEN}")),
        None,
    )
    .await;
    let j = a.json();
    (a.status, j["data"].clone())
}

async fn create_with_prompt(sim: &Simulator, prompt: &str) -> String {
    let a = send(
        "POST",
        &sim.url(&format!("/v1/image_to_video?api_token={TOKEN}")),
        Some(&body_with_prompt(prompt)),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    a.json()["data"]["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn pending_throttled_running_succeeded() {
    let sim = Simulator::builder()
        .manual_clock()
        .epoch(epoch())
        .task_timeline(Timeline {
            pending: secs(2),
            throttled: secs(3),
            running: secs(10),
        })
        .start()
        .await
        .unwrap();
    let id = create(sim.base_url()).await;
    let status = |j: &Value| j["status"].as_str().unwrap().to_owned();

    assert_eq!(status(&get(&sim, &id).await.1), "PENDING");
    sim.advance(secs(2));
    assert_eq!(
        get(&sim, &id).await.1,
        json!({"id": id, "status": "THROTTLED", "createdAt": CREATED_AT})
    );
    sim.advance(secs(3));
    // JSON.stringify writes 0, not 0.0: progress can arrive as an integer.
    assert_eq!(
        get(&sim, &id).await.1,
        json!({"id": id, "status": "RUNNING", "createdAt": CREATED_AT, "progress": 0})
    );
    let mut last = 0.0;
    for _ in 0..9 {
        sim.advance(secs(1));
        let (_, j) = get(&sim, &id).await;
        assert_eq!(status(&j), "RUNNING");
        let p = j["progress"].as_f64().unwrap();
        assert!(p > last && p < 1.0, "{p} after {last}");
        last = p;
    }
    assert_eq!(last, 0.9);
    sim.advance(secs(1));
    let (_, j) = get(&sim, &id).await;
    // One signed link to the storage host (tests/outputs.rs downloads it).
    let link = j["output"][0].as_str().unwrap_or_default();
    assert!(
        link.starts_with(&format!("{}/outputs/{id}/0.mp4?_jwt=", sim.storage_url())),
        "{j}"
    );
    assert_eq!(
        j,
        json!({"id": id, "status": "SUCCEEDED", "createdAt": CREATED_AT,
               "output": [link],
               "cost": {"credits": 50}})
    );
    let info = sim.task(&id).unwrap();
    assert_eq!(info.status, "SUCCEEDED");
    assert_eq!(info.model, "gen4_turbo");
    assert_eq!(info.created_at, Duration::ZERO);
}

#[tokio::test]
async fn outcomes_markers_queue_and_default() {
    let sim = Simulator::builder()
        .manual_clock()
        .task_timeline(Timeline::INSTANT)
        .outcome_for_prompt(
            "[fail]",
            Outcome::fail("INTERNAL.BAD_OUTPUT.CODE01", "Bad output"),
        )
        .default_outcome(Outcome::Succeed)
        .start()
        .await
        .unwrap();
    sim.next_outcome(Outcome::Fail {
        code: None,
        failure: "no code".into(),
    });
    sim.next_outcome(Outcome::Cancel);

    // The marker wins and leaves the queue alone.
    let marked = create_with_prompt(&sim, "a dog [fail]").await;
    let first = create_with_prompt(&sim, "a dog").await;
    let second = create_with_prompt(&sim, "a dog").await;
    let third = create_with_prompt(&sim, "a dog").await;
    sim.set_default_outcome(Outcome::UnknownStatus("ARCHIVED".into()));
    let fourth = create_with_prompt(&sim, "a dog").await;
    sim.outcome_for_prompt("forever", Outcome::RunForever);
    let fifth = create_with_prompt(&sim, "run forever").await;

    let (_, j) = get(&sim, &marked).await;
    assert_eq!(j["status"], "FAILED");
    assert_eq!(j["failureCode"], "INTERNAL.BAD_OUTPUT.CODE01");
    let (_, j) = get(&sim, &first).await;
    assert_eq!(j["failure"], "no code");
    assert!(j.get("failureCode").is_none());
    let (status, j) = get(&sim, &second).await;
    assert_eq!(status, 200);
    assert_eq!(j["status"], "CANCELLED");
    assert_eq!(j["cost"], json!({"credits": 0}));
    assert_eq!(get(&sim, &third).await.1["status"], "SUCCEEDED");
    let (_, j) = get(&sim, &fourth).await;
    assert_eq!(j["status"], "ARCHIVED");
    assert_eq!(j.as_object().unwrap().len(), 3);
    sim.advance(secs(3600));
    let (_, j) = get(&sim, &fifth).await;
    assert_eq!(
        (j["status"].as_str(), j["progress"].as_f64()),
        (Some("RUNNING"), Some(0.99))
    );

    let outcomes: Vec<Outcome> = sim.tasks().into_iter().map(|t| t.outcome).collect();
    assert_eq!(outcomes.len(), 6);
    assert_eq!(outcomes[5], Outcome::RunForever);
}

#[tokio::test]
async fn delete_cancels_unfinished_and_deletes_finished() {
    let sim = Simulator::builder().manual_clock().start().await.unwrap();
    let running = create(sim.base_url()).await;
    let other = create(sim.base_url()).await;
    sim.advance(secs(5));
    let delete = async |id: &str| {
        send(
            "DELETE",
            &sim.url(&format!("/v1/tasks/{id}?api_token={TOKEN}")),
            None,
        )
        .await
    };
    assert_eq!(delete(&running).await.status, 200);
    assert_eq!(get(&sim, &running).await.0, 404);
    let info = sim.task(&running).unwrap();
    assert_eq!(info.removed, Some(Removal::Cancelled));
    assert_eq!(info.status, "CANCELLED");

    sim.advance(secs(60));
    assert_eq!(get(&sim, &other).await.1["status"], "SUCCEEDED");
    assert_eq!(delete(&other).await.status, 200);
    assert_eq!(delete(&other).await.status, 404);
    let info = sim.task(&other).unwrap();
    assert_eq!(info.removed, Some(Removal::Deleted));
    assert_eq!(info.status, "SUCCEEDED");
    assert_eq!(info.delete_calls, 2);
    assert_eq!(sim.accepted_creates(), 2);
}

#[tokio::test]
async fn time_scale_runs_tasks_fast() {
    // 1000 simulated seconds per real second: the default 22-second task takes 22 ms.
    let sim = Simulator::builder()
        .time_scale(1000.0)
        .start()
        .await
        .unwrap();
    let id = create(sim.base_url()).await;
    let mut statuses = Vec::new();
    for _ in 0..200 {
        let (_, j) = get(&sim, &id).await;
        let s = j["status"].as_str().unwrap().to_owned();
        if statuses.last() != Some(&s) {
            statuses.push(s.clone());
        }
        if s == "SUCCEEDED" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert_eq!(statuses.last().map(String::as_str), Some("SUCCEEDED"));
    assert!(sim.now() >= secs(22));
}

#[tokio::test]
async fn timeline_can_change_for_new_tasks() {
    let sim = Simulator::builder().manual_clock().start().await.unwrap();
    let slow = create(sim.base_url()).await;
    sim.set_task_timeline(Timeline::INSTANT);
    let fast = create(sim.base_url()).await;
    assert_eq!(get(&sim, &slow).await.1["status"], "PENDING");
    assert_eq!(get(&sim, &fast).await.1["status"], "SUCCEEDED");
}

#[tokio::test]
async fn unicode_prompts_are_measured_in_utf16() {
    let sim = Simulator::builder().start().await.unwrap();
    let url = sim.url(&format!("/v1/image_to_video?api_token={TOKEN}"));
    let ok = body_with_prompt(&"😀".repeat(500));
    assert_eq!(send("POST", &url, Some(&ok)).await.status, 200);
    let too_long = body_with_prompt(&"😀".repeat(501));
    let a = send("POST", &url, Some(&too_long)).await;
    assert_eq!(a.status, 400);
    assert_eq!(
        a.json()["data"]["error"]["issues"][0]["path"],
        json!(["promptText"])
    );
    assert_eq!(
        sim.tasks()[0].prompt_text.as_deref(),
        Some("😀".repeat(500).as_str())
    );
}
