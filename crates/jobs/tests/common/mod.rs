//! Shared by the job store's tests: stores to run against, the simulator, requests.
#![allow(dead_code)]

use std::time::Duration;

use lowcodeapi_runwayml::{Client, ImageToVideo, Model, PromptImage, Ratio};
use lowcodeapi_runwayml_sim::{DEFAULT_TOKEN, Simulator, Timeline};
use sqlx::Connection as _;

/// The environment variable naming an administrative PostgreSQL URL for tests (CI sets it).
pub const PG_ENV: &str = "RUNWAY_JOBS_TEST_PG";

/// A fresh store of each kind available: a SQLite file always; a new PostgreSQL database when
/// `RUNWAY_JOBS_TEST_PG` is set (else a SKIPPED line says why).
pub async fn stores(dir: &std::path::Path, test: &str) -> Vec<(&'static str, String)> {
    let mut stores = vec![(
        "sqlite",
        format!("sqlite://{}", dir.join(format!("{test}.db")).display()),
    )];
    match fresh_pg(test).await {
        Some(url) => stores.push(("postgres", url)),
        None => eprintln!(
            "SKIPPED {test} on PostgreSQL: {PG_ENV} is not set (CI sets it; `.ci/postgres.sh start` starts a server)"
        ),
    }
    stores
}

/// A new, empty PostgreSQL database, when a server is configured.
pub async fn fresh_pg(test: &str) -> Option<String> {
    let admin = std::env::var(PG_ENV).ok().filter(|s| !s.is_empty())?;
    sqlx::any::install_default_drivers();
    let name = format!(
        "{}_{}_{:x}",
        test.replace(|c: char| !c.is_ascii_alphanumeric(), "_"),
        std::process::id(),
        rand_u32()
    )
    .to_lowercase();
    let mut conn = sqlx::AnyConnection::connect(&admin)
        .await
        .unwrap_or_else(|e| panic!("{PG_ENV} is set but PostgreSQL is unreachable: {e}"));
    sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .expect("create a test database");
    let (base, _) = admin.rsplit_once('/').expect("a database in the URL");
    Some(format!("{base}/{name}"))
}

fn rand_u32() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos(),
    );
    h.finish() as u32
}

/// A simulator whose tasks end after `sim_secs` simulated seconds, at `scale`× real time.
pub async fn simulator(scale: f64, sim_secs: f64) -> Simulator {
    Simulator::builder()
        .time_scale(scale)
        .task_timeline(Timeline {
            pending: Duration::from_secs_f64(sim_secs / 4.0),
            throttled: Duration::ZERO,
            running: Duration::from_secs_f64(sim_secs * 3.0 / 4.0),
        })
        .estimated_cost(true)
        .synthetic_output_len(4096)
        .start()
        .await
        .expect("simulator")
}

pub fn client(sim: &Simulator) -> Client {
    Client::builder()
        .api_token(DEFAULT_TOKEN)
        .base_url(sim.base_url())
        .build()
        .expect("client")
}

/// Request `n`: its prompt carries a marker so the simulator's tasks can be traced to jobs.
pub fn request(n: usize) -> ImageToVideo {
    ImageToVideo::new(
        Model::Gen4Turbo,
        PromptImage::url("https://example.com/a.jpg").expect("uri"),
    )
    .prompt_text(format!("job-{n} a slow pan"))
    .ratio(Ratio::W1280H720)
    .duration(5)
}

/// The job marker in a simulator task's prompt.
pub fn marker(prompt: Option<&str>) -> Option<String> {
    prompt?.split_whitespace().next().map(str::to_string)
}
