//! The SQL: one schema and one set of statements for SQLite and PostgreSQL (through `sqlx::Any`),
//! with the few places they differ spelled out. Every state change is one conditional `UPDATE`
//! (fenced by the job's owner or its create token), so a worker that lost its job cannot
//! overwrite what another one did.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lowcodeapi_runwayml::TaskId;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};

use crate::error::Error;
use crate::job::{Destination, JobEvent, JobId, JobState, JobStatus, StoredOutput};

/// The newest schema this version knows.
pub(crate) const SCHEMA_VERSION: i64 = 2;

/// States whose task counts against the fleet's cap: the create may be in flight, or the task
/// exists and has not ended.
const IN_FLIGHT: &str = "('creating','waiting')";
/// States a worker still has to work on.
const UNSETTLED: &str = "('queued','creating','waiting','downloading')";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backend {
    Sqlite,
    Postgres,
}

pub(crate) struct Store {
    pool: AnyPool,
    backend: Backend,
    round_trips: AtomicU64,
}

/// Milliseconds since the Unix epoch, on this host's clock.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

pub(crate) fn ms(d: Duration) -> i64 {
    d.as_millis().min(i64::MAX as u128) as i64
}

/// The URL without its password, for messages.
pub(crate) fn shown_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{user}:***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_string(),
    }
}

/// A job taken by a worker.
pub(crate) struct Claim {
    pub id: JobId,
    pub state: JobState,
    pub request: String,
    pub destination: Destination,
    pub task_id: Option<TaskId>,
    pub create_token: Option<String>,
}

fn migrations(backend: Backend) -> [&'static str; 2] {
    match backend {
        Backend::Sqlite => [
            r#"
CREATE TABLE runway_jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job_key TEXT UNIQUE,
    request TEXT NOT NULL,
    destination TEXT NOT NULL,
    state TEXT NOT NULL,
    owner TEXT,
    lease_until INTEGER NOT NULL DEFAULT 0,
    run_after INTEGER NOT NULL DEFAULT 0,
    create_token TEXT,
    task_id TEXT,
    cost REAL,
    attempts INTEGER NOT NULL DEFAULT 0,
    outputs TEXT,
    error TEXT,
    failure_code TEXT,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX runway_jobs_state ON runway_jobs (state, id);
CREATE TABLE runway_jobs_fleet (id INTEGER PRIMARY KEY, backoff_until INTEGER NOT NULL);
INSERT INTO runway_jobs_fleet (id, backoff_until) VALUES (1, 0);
CREATE TABLE runway_job_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id INTEGER NOT NULL,
    state TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE TRIGGER runway_jobs_inserted AFTER INSERT ON runway_jobs BEGIN
    INSERT INTO runway_job_events (job_id, state, at) VALUES (NEW.id, NEW.state, NEW.updated_at);
END;
CREATE TRIGGER runway_jobs_changed AFTER UPDATE OF state ON runway_jobs
WHEN NEW.state <> OLD.state BEGIN
    INSERT INTO runway_job_events (job_id, state, at) VALUES (NEW.id, NEW.state, NEW.updated_at);
END;
"#,
            "SELECT 1",
        ],
        Backend::Postgres => [
            r#"
CREATE TABLE runway_jobs (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_key TEXT UNIQUE,
    request TEXT NOT NULL,
    destination TEXT NOT NULL,
    state TEXT NOT NULL,
    owner TEXT,
    lease_until BIGINT NOT NULL DEFAULT 0,
    run_after BIGINT NOT NULL DEFAULT 0,
    create_token TEXT,
    task_id TEXT,
    cost DOUBLE PRECISION,
    attempts BIGINT NOT NULL DEFAULT 0,
    outputs TEXT,
    error TEXT,
    failure_code TEXT,
    cancel_requested BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX runway_jobs_state ON runway_jobs (state, id);
CREATE TABLE runway_jobs_fleet (id BIGINT PRIMARY KEY, backoff_until BIGINT NOT NULL);
INSERT INTO runway_jobs_fleet (id, backoff_until) VALUES (1, 0);
CREATE TABLE runway_job_events (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id BIGINT NOT NULL,
    state TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE FUNCTION runway_jobs_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.state IS DISTINCT FROM OLD.state THEN
        INSERT INTO runway_job_events (job_id, state, at) VALUES (NEW.id, NEW.state, NEW.updated_at);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER runway_jobs_event AFTER INSERT OR UPDATE ON runway_jobs
    FOR EACH ROW EXECUTE FUNCTION runway_jobs_event();
"#,
            r#"
-- A worker's claim in one round trip: a job whose task exists and whose lease ran out first,
-- else (when p_new) a queued job, its intent to create recorded, under the fleet's cap. The
-- fleet row's lock serializes the new claims; each statement of a VOLATILE function takes a
-- fresh snapshot, so the count sees every claim committed before the lock was granted. The
-- lock is held until the calling statement's transaction commits.
CREATE FUNCTION runway_jobs_claim(p_owner TEXT, p_lease_until BIGINT, p_token TEXT,
                                  p_now BIGINT, p_max BIGINT, p_new BOOLEAN)
RETURNS SETOF runway_jobs LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    RETURN QUERY UPDATE runway_jobs j SET owner = p_owner, lease_until = p_lease_until
        WHERE j.id = (SELECT s.id FROM runway_jobs s WHERE s.state IN ('waiting','downloading')
                        AND s.lease_until < p_now AND s.run_after <= p_now
                        ORDER BY s.id LIMIT 1 FOR UPDATE SKIP LOCKED)
          AND j.state IN ('waiting','downloading') AND j.lease_until < p_now
        RETURNING j.*;
    IF FOUND OR NOT p_new THEN
        RETURN;
    END IF;
    PERFORM 1 FROM runway_jobs_fleet f WHERE f.id = 1 FOR UPDATE;
    RETURN QUERY UPDATE runway_jobs j SET state = 'creating', owner = p_owner,
            lease_until = p_lease_until, create_token = p_token, attempts = j.attempts + 1,
            error = NULL, updated_at = p_now
        WHERE j.id = (SELECT s.id FROM runway_jobs s WHERE s.state = 'queued'
                        AND s.run_after <= p_now AND s.cancel_requested = 0
                        ORDER BY s.id LIMIT 1)
          AND j.state = 'queued'
          AND (SELECT f.backoff_until FROM runway_jobs_fleet f WHERE f.id = 1) <= p_now
          AND (SELECT COUNT(*) FROM runway_jobs c WHERE c.state IN ('creating','waiting')) < p_max
        RETURNING j.*;
END $$;
"#,
        ],
    }
}

const STATUS_COLUMNS: &str = "id, job_key, state, task_id, cost, attempts, destination, outputs, \
     error, failure_code, cancel_requested, created_at, updated_at";

fn text(row: &AnyRow, column: &str) -> Result<Option<String>, Error> {
    Ok(row.try_get::<Option<String>, _>(column)?)
}

fn int(row: &AnyRow, column: &str) -> Result<i64, Error> {
    Ok(row.try_get::<i64, _>(column)?)
}

fn state_of(row: &AnyRow) -> Result<JobState, Error> {
    let name: String = row.try_get("state")?;
    JobState::parse(&name).ok_or_else(|| Error::Corrupt(format!("unknown job state {name:?}")))
}

fn destination_of(row: &AnyRow) -> Result<Destination, Error> {
    let raw: String = row.try_get("destination")?;
    serde_json::from_str(&raw).map_err(|e| Error::Corrupt(format!("destination {raw:?}: {e}")))
}

fn task_id_of(row: &AnyRow) -> Result<Option<TaskId>, Error> {
    match text(row, "task_id")? {
        None => Ok(None),
        Some(id) => TaskId::parse(&id)
            .map(Some)
            .map_err(|e| Error::Corrupt(format!("task id: {e}"))),
    }
}

fn status_of(row: &AnyRow) -> Result<JobStatus, Error> {
    let outputs = match text(row, "outputs")? {
        None => Vec::new(),
        Some(raw) => serde_json::from_str::<Vec<StoredOutput>>(&raw)
            .map_err(|e| Error::Corrupt(format!("outputs: {e}")))?,
    };
    let cost: Option<f64> = row.try_get("cost")?;
    Ok(JobStatus {
        id: JobId::from_raw(int(row, "id")?),
        key: text(row, "job_key")?,
        state: state_of(row)?,
        task_id: task_id_of(row)?,
        cost,
        attempts: int(row, "attempts")?,
        destination: destination_of(row)?,
        outputs,
        error: text(row, "error")?,
        failure_code: text(row, "failure_code")?,
        cancel_requested: int(row, "cancel_requested")? != 0,
        created_at_ms: int(row, "created_at")?,
        updated_at_ms: int(row, "updated_at")?,
    })
}

fn claim_of(row: &AnyRow) -> Result<Claim, Error> {
    Ok(Claim {
        id: JobId::from_raw(int(row, "id")?),
        state: state_of(row)?,
        request: row.try_get("request")?,
        destination: destination_of(row)?,
        task_id: task_id_of(row)?,
        create_token: text(row, "create_token")?,
    })
}

fn unreadable(url: &str, e: impl std::fmt::Display) -> Error {
    Error::Unreadable {
        url: shown_url(url),
        message: e.to_string(),
    }
}

impl Store {
    pub(crate) async fn open(url: &str) -> Result<Store, Error> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(Error::UnsupportedUrl(shown_url(url)));
        };
        let connect_url = match backend {
            Backend::Sqlite if !url.contains("mode=") && !url.contains(":memory:") => {
                format!("{url}{}mode=rwc", if url.contains('?') { '&' } else { '?' })
            }
            _ => url.to_string(),
        };
        // One connection first, so that a store that cannot be read fails at once rather than
        // after the pool's acquire timeout.
        {
            use sqlx::Connection as _;
            let mut probe = sqlx::AnyConnection::connect(&connect_url)
                .await
                .map_err(|e| unreadable(url, e))?;
            let check = match backend {
                Backend::Sqlite => "SELECT COUNT(*) FROM sqlite_master",
                Backend::Postgres => "SELECT 1",
            };
            sqlx::raw_sql(check)
                .execute(&mut probe)
                .await
                .map_err(|e| unreadable(url, e))?;
            let _ = probe.close().await;
        }
        let options = AnyPoolOptions::new()
            .max_connections(match backend {
                Backend::Sqlite => 4,
                Backend::Postgres => 16,
            })
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // Several processes may share the file: wait for the writer rather than
                        // fail; WAL lets readers run alongside it.
                        sqlx::Executor::execute(
                            conn,
                            "PRAGMA busy_timeout = 30000; PRAGMA synchronous = NORMAL; \
                             PRAGMA journal_mode = WAL;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            });
        let pool = options
            .connect(&connect_url)
            .await
            .map_err(|e| unreadable(url, e))?;
        let store = Store {
            pool,
            backend,
            round_trips: AtomicU64::new(0),
        };
        match store.migrate().await {
            Ok(()) => Ok(store),
            Err(e @ Error::SchemaTooNew { .. }) => Err(e),
            Err(e) => Err(unreadable(url, e)),
        }
    }

    pub(crate) fn backend(&self) -> Backend {
        self.backend
    }

    pub(crate) fn round_trips(&self) -> u64 {
        self.round_trips.load(Ordering::Relaxed)
    }

    fn trip(&self, n: u64) {
        self.round_trips.fetch_add(n, Ordering::Relaxed);
    }

    /// Applies the migrations this store lacks, one process at a time.
    async fn migrate(&self) -> Result<(), Error> {
        let mut conn = self.pool.acquire().await?;
        let begin = match self.backend {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres => "BEGIN; SELECT pg_advisory_xact_lock(7212000013)",
        };
        sqlx::raw_sql(begin).execute(&mut *conn).await?;
        let result: Result<(), Error> = async {
            sqlx::raw_sql(
                "CREATE TABLE IF NOT EXISTS runway_jobs_schema (version BIGINT NOT NULL)",
            )
            .execute(&mut *conn)
            .await?;
            let found: Option<i64> =
                sqlx::query_scalar("SELECT MAX(version) FROM runway_jobs_schema")
                    .fetch_one(&mut *conn)
                    .await?;
            let found = found.unwrap_or(0);
            if found > SCHEMA_VERSION {
                return Err(Error::SchemaTooNew {
                    found,
                    supported: SCHEMA_VERSION,
                });
            }
            for (i, sql) in migrations(self.backend).iter().enumerate() {
                let version = i as i64 + 1;
                if version <= found {
                    continue;
                }
                sqlx::raw_sql(sql).execute(&mut *conn).await?;
                sqlx::query("INSERT INTO runway_jobs_schema (version) VALUES ($1)")
                    .bind(version)
                    .execute(&mut *conn)
                    .await?;
            }
            Ok(())
        }
        .await;
        match result {
            Ok(()) => {
                sqlx::raw_sql("COMMIT").execute(&mut *conn).await?;
                Ok(())
            }
            Err(e) => {
                if sqlx::raw_sql("ROLLBACK").execute(&mut *conn).await.is_err() {
                    conn.detach();
                }
                Err(e)
            }
        }
    }

    /// Records a job; with a key, a second submit of the same key returns the first job.
    pub(crate) async fn insert(
        &self,
        key: Option<&str>,
        request: &str,
        destination: &Destination,
    ) -> Result<JobId, Error> {
        let destination =
            serde_json::to_string(destination).map_err(|e| Error::Corrupt(e.to_string()))?;
        let now = now_ms();
        self.trip(1);
        let inserted: Option<i64> = sqlx::query_scalar(
            "INSERT INTO runway_jobs (job_key, request, destination, state, created_at, updated_at) \
             VALUES ($1, $2, $3, 'queued', $4, $4) ON CONFLICT (job_key) DO NOTHING RETURNING id",
        )
        .bind(key)
        .bind(request)
        .bind(destination)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        if let Some(id) = inserted {
            return Ok(JobId::from_raw(id));
        }
        self.trip(1);
        let id: i64 = sqlx::query_scalar("SELECT id FROM runway_jobs WHERE job_key = $1")
            .bind(key)
            .fetch_one(&self.pool)
            .await?;
        Ok(JobId::from_raw(id))
    }

    pub(crate) async fn status(&self, id: JobId) -> Result<JobStatus, Error> {
        self.trip(1);
        let row = sqlx::query(&format!(
            "SELECT {STATUS_COLUMNS} FROM runway_jobs WHERE id = $1"
        ))
        .bind(id.get())
        .fetch_optional(&self.pool)
        .await?
        .ok_or(Error::NotFound(id))?;
        status_of(&row)
    }

    pub(crate) async fn list(
        &self,
        state: Option<JobState>,
        after: Option<JobId>,
        limit: i64,
    ) -> Result<Vec<JobStatus>, Error> {
        self.trip(1);
        let rows = sqlx::query(&format!(
            "SELECT {STATUS_COLUMNS} FROM runway_jobs WHERE ($1 IS NULL OR state = $1) AND id > $2 \
             ORDER BY id LIMIT $3"
        ))
        .bind(state.map(|s| s.as_str()))
        .bind(after.map(JobId::get).unwrap_or(0))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(status_of).collect()
    }

    pub(crate) async fn counts(&self) -> Result<Vec<(JobState, i64)>, Error> {
        self.trip(1);
        let rows = sqlx::query("SELECT state, COUNT(*) AS n FROM runway_jobs GROUP BY state")
            .fetch_all(&self.pool)
            .await?;
        let mut counts = Vec::new();
        for row in &rows {
            counts.push((state_of(row)?, int(row, "n")?));
        }
        counts.sort_by_key(|(s, _)| JobState::ALL.iter().position(|x| x == s));
        Ok(counts)
    }

    pub(crate) async fn unsettled(&self) -> Result<i64, Error> {
        self.trip(1);
        Ok(sqlx::query_scalar(&format!(
            "SELECT COUNT(*) FROM runway_jobs WHERE state IN {UNSETTLED}"
        ))
        .fetch_one(&self.pool)
        .await?)
    }

    pub(crate) async fn events_after(&self, seq: i64, limit: i64) -> Result<Vec<JobEvent>, Error> {
        self.trip(1);
        let rows = sqlx::query(
            "SELECT seq, job_id, state, at FROM runway_job_events WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(seq)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(JobEvent {
                    seq: int(row, "seq")?,
                    job: JobId::from_raw(int(row, "job_id")?),
                    state: state_of(row)?,
                    at_ms: int(row, "at")?,
                })
            })
            .collect()
    }

    pub(crate) async fn last_event(&self) -> Result<i64, Error> {
        self.trip(1);
        let last: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM runway_job_events")
            .fetch_one(&self.pool)
            .await?;
        Ok(last.unwrap_or(0))
    }

    /// Takes a job to work on: one whose task exists and whose lease ran out (its worker died,
    /// or released it) first; else, when `new`, a queued one ([`Store::claim_new`]). SQLite: two
    /// statements at most; PostgreSQL: one (`runway_jobs_claim`, which does the same in one
    /// transaction).
    pub(crate) async fn claim(
        &self,
        owner: &str,
        lease: Duration,
        max_in_flight: i64,
        token: &str,
        new: bool,
    ) -> Result<Option<Claim>, Error> {
        match self.backend {
            Backend::Sqlite => {
                if let Some(claim) = self.claim_resume(owner, lease).await? {
                    return Ok(Some(claim));
                }
                if !new {
                    return Ok(None);
                }
                self.claim_new(owner, lease, max_in_flight, token).await
            }
            Backend::Postgres => {
                let now = now_ms();
                self.trip(1);
                let row = sqlx::query(
                    "SELECT id, state, request, destination, task_id, create_token \
                     FROM runway_jobs_claim($1, $2, $3, $4, $5, $6)",
                )
                .bind(owner)
                .bind(now + ms(lease))
                .bind(token)
                .bind(now)
                .bind(max_in_flight)
                .bind(new)
                .fetch_optional(&self.pool)
                .await?;
                row.as_ref().map(claim_of).transpose()
            }
        }
    }

    /// Takes a queued job and records the intent to create its task, if the fleet is under its
    /// cap and not backing off (SQLite). The count and the claim are atomic: SQLite runs the
    /// single statement under its write lock.
    pub(crate) async fn claim_new(
        &self,
        owner: &str,
        lease: Duration,
        max_in_flight: i64,
        token: &str,
    ) -> Result<Option<Claim>, Error> {
        let now = now_ms();
        let sql = format!(
            "UPDATE runway_jobs SET state = 'creating', owner = $1, lease_until = $2, \
             create_token = $3, attempts = attempts + 1, error = NULL, updated_at = $4 \
             WHERE id = (SELECT id FROM runway_jobs WHERE state = 'queued' AND run_after <= $4 \
                           AND cancel_requested = 0 ORDER BY id LIMIT 1) \
               AND state = 'queued' \
               AND (SELECT backoff_until FROM runway_jobs_fleet WHERE id = 1) <= $4 \
               AND (SELECT COUNT(*) FROM runway_jobs WHERE state IN {IN_FLIGHT}) < $5 \
             RETURNING id, state, request, destination, task_id, create_token"
        );
        let query = sqlx::query(&sql)
            .bind(owner)
            .bind(now + ms(lease))
            .bind(token)
            .bind(now)
            .bind(max_in_flight);
        // SQLite only (PostgreSQL claims through `runway_jobs_claim`, see `claim`).
        self.trip(1);
        let row = query.fetch_optional(&self.pool).await?;
        row.as_ref().map(claim_of).transpose()
    }

    /// Takes a job whose task exists (waiting or downloading) and whose lease ran out: its
    /// worker died, or released it.
    pub(crate) async fn claim_resume(
        &self,
        owner: &str,
        lease: Duration,
    ) -> Result<Option<Claim>, Error> {
        let now = now_ms();
        let lock = match self.backend {
            Backend::Sqlite => "",
            Backend::Postgres => "FOR UPDATE SKIP LOCKED",
        };
        let sql = format!(
            "UPDATE runway_jobs SET owner = $1, lease_until = $2 \
             WHERE id = (SELECT id FROM runway_jobs WHERE state IN ('waiting','downloading') \
                           AND lease_until < $3 AND run_after <= $3 ORDER BY id LIMIT 1 {lock}) \
               AND state IN ('waiting','downloading') AND lease_until < $3 \
             RETURNING id, state, request, destination, task_id, create_token"
        );
        self.trip(1);
        let row = sqlx::query(&sql)
            .bind(owner)
            .bind(now + ms(lease))
            .bind(now)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(claim_of).transpose()
    }

    /// Creates whose worker died mid-flight become ambiguous: the POST may have reached Runway.
    pub(crate) async fn reap(&self) -> Result<u64, Error> {
        let now = now_ms();
        self.trip(1);
        let done = sqlx::query(
            "UPDATE runway_jobs SET state = 'ambiguous', owner = NULL, updated_at = $1, \
             error = 'the worker creating this task stopped (crash or lost lease) before recording \
             its answer: the task may exist at Runway' \
             WHERE state = 'creating' AND lease_until < $1",
        )
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// The create answered: the task id is recorded. Also accepted when the job was marked
    /// ambiguous meanwhile (the answer came late): then nothing is ambiguous any more.
    /// Returns whether a cancel was asked for, or `None` when the job is no longer this create's.
    pub(crate) async fn created(
        &self,
        id: JobId,
        token: &str,
        owner: &str,
        lease: Duration,
        task: &TaskId,
        cost: Option<f64>,
    ) -> Result<Option<bool>, Error> {
        let now = now_ms();
        self.trip(1);
        let row = sqlx::query(
            "UPDATE runway_jobs SET state = 'waiting', task_id = $3, cost = $4, owner = $5, \
             lease_until = $6, error = NULL, updated_at = $7 \
             WHERE id = $1 AND create_token = $2 AND state IN ('creating','ambiguous') \
             RETURNING cancel_requested",
        )
        .bind(id.get())
        .bind(token)
        .bind(task.as_str())
        .bind(cost)
        .bind(owner)
        .bind(now + ms(lease))
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| int(&r, "cancel_requested").map(|c| c != 0))
            .transpose()
    }

    /// The create was answered in a way that proves no task exists (429, no connection): back
    /// to the queue, not before `run_after`.
    pub(crate) async fn requeue(
        &self,
        id: JobId,
        token: &str,
        run_after: i64,
        note: &str,
    ) -> Result<bool, Error> {
        self.trip(1);
        let done = sqlx::query(
            "UPDATE runway_jobs SET owner = NULL, create_token = NULL, lease_until = 0, \
             state = CASE WHEN cancel_requested = 1 THEN 'cancelled' ELSE 'queued' END, \
             run_after = $3, error = $4, updated_at = $5 \
             WHERE id = $1 AND create_token = $2 AND state = 'creating'",
        )
        .bind(id.get())
        .bind(token)
        .bind(run_after)
        .bind(note)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The create ended without a task: ambiguous (it may exist) or failed (it does not).
    pub(crate) async fn create_ended(
        &self,
        id: JobId,
        token: &str,
        state: JobState,
        error: &str,
        code: Option<&str>,
    ) -> Result<bool, Error> {
        self.trip(1);
        let done = sqlx::query(
            "UPDATE runway_jobs SET state = $3, owner = NULL, error = $4, failure_code = $5, \
             updated_at = $6 WHERE id = $1 AND create_token = $2 AND state = 'creating'",
        )
        .bind(id.get())
        .bind(token)
        .bind(state.as_str())
        .bind(error)
        .bind(code)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The whole fleet stops creating until `until` (a 429 on create).
    pub(crate) async fn back_off(&self, until: i64) -> Result<(), Error> {
        self.trip(1);
        sqlx::query(
            "UPDATE runway_jobs_fleet SET backoff_until = \
             CASE WHEN backoff_until > $1 THEN backoff_until ELSE $1 END WHERE id = 1",
        )
        .bind(until)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Keeps this worker's lease; false when the job is no longer its own.
    pub(crate) async fn renew(
        &self,
        id: JobId,
        owner: &str,
        lease: Duration,
    ) -> Result<bool, Error> {
        self.trip(1);
        let done = sqlx::query(
            "UPDATE runway_jobs SET lease_until = $3 WHERE id = $1 AND owner = $2 \
             AND state IN ('creating','waiting','downloading')",
        )
        .bind(id.get())
        .bind(owner)
        .bind(now_ms() + ms(lease))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Moves an owned job on. Each `fields` entry is set from a text value.
    /// Marks a job failed, from `from` (fenced by its owner like [`advance`](Store::advance)),
    /// with the error and Runway's failure code if there is one.
    pub(crate) async fn fail(
        &self,
        id: JobId,
        owner: &str,
        from: JobState,
        error: &str,
        failure_code: Option<&str>,
    ) -> Result<bool, Error> {
        let change = Change {
            error: Some(error),
            failure_code,
            ..Change::default()
        };
        self.advance(id, owner, &[from], JobState::Failed, change)
            .await
    }

    pub(crate) async fn advance(
        &self,
        id: JobId,
        owner: &str,
        from: &[JobState],
        to: JobState,
        change: Change<'_>,
    ) -> Result<bool, Error> {
        let from: Vec<String> = from.iter().map(|s| format!("'{}'", s.as_str())).collect();
        let settled = to.is_settled();
        let sql = format!(
            "UPDATE runway_jobs SET state = $3, updated_at = $4, \
             outputs = COALESCE($5, outputs), error = $6, failure_code = $7, \
             owner = CASE WHEN $8 = 1 THEN NULL ELSE owner END, \
             lease_until = CASE WHEN $8 = 1 THEN 0 ELSE lease_until END, \
             run_after = $9 \
             WHERE id = $1 AND owner = $2 AND state IN ({})",
            from.join(",")
        );
        self.trip(1);
        let done = sqlx::query(&sql)
            .bind(id.get())
            .bind(owner)
            .bind(to.as_str())
            .bind(now_ms())
            .bind(change.outputs)
            .bind(change.error)
            .bind(change.failure_code)
            .bind(i64::from(settled || change.release))
            .bind(change.run_after)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Marks a cancel; a job that never reached Runway (queued, or ambiguous) is cancelled at
    /// once. Returns the state after, and the task to cancel at Runway.
    pub(crate) async fn request_cancel(
        &self,
        id: JobId,
    ) -> Result<Option<(JobState, Option<TaskId>)>, Error> {
        self.trip(1);
        let row = sqlx::query(
            "UPDATE runway_jobs SET cancel_requested = 1, \
             state = CASE WHEN state IN ('queued','ambiguous') THEN 'cancelled' ELSE state END, \
             owner = CASE WHEN state IN ('queued','ambiguous') THEN NULL ELSE owner END, \
             updated_at = $2 \
             WHERE id = $1 AND state IN ('queued','creating','waiting','downloading','ambiguous') \
             RETURNING state, task_id",
        )
        .bind(id.get())
        .bind(now_ms())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| Ok((state_of(&r)?, task_id_of(&r)?)))
            .transpose()
    }

    /// A job whose task was cancelled at Runway.
    pub(crate) async fn cancelled(&self, id: JobId) -> Result<bool, Error> {
        self.trip(1);
        let done = sqlx::query(
            "UPDATE runway_jobs SET state = 'cancelled', owner = NULL, lease_until = 0, \
             updated_at = $2 WHERE id = $1 AND state IN ('creating','waiting','downloading')",
        )
        .bind(id.get())
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// An operator's decision: send an ambiguous job's create again.
    pub(crate) async fn resubmit(&self, id: JobId) -> Result<bool, Error> {
        self.trip(1);
        let done = sqlx::query(
            "UPDATE runway_jobs SET state = 'queued', owner = NULL, create_token = NULL, \
             lease_until = 0, run_after = 0, error = NULL, updated_at = $2 \
             WHERE id = $1 AND state = 'ambiguous'",
        )
        .bind(id.get())
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Lets go of every job this worker holds without ending it, for another worker (or a
    /// restart) to take at once. Creates in flight are not released: they finish first.
    pub(crate) async fn release_all(&self, owner: &str) -> Result<(), Error> {
        self.trip(1);
        sqlx::query(
            "UPDATE runway_jobs SET owner = NULL, lease_until = 0 \
             WHERE owner = $1 AND state IN ('waiting','downloading')",
        )
        .bind(owner)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub(crate) async fn close(&self) {
        self.pool.close().await;
    }
}

/// What [`Store::advance`] changes besides the state.
#[derive(Default)]
pub(crate) struct Change<'a> {
    pub outputs: Option<&'a str>,
    pub error: Option<&'a str>,
    pub failure_code: Option<&'a str>,
    /// Let go of the job (no owner, lease expired) without settling it.
    pub release: bool,
    pub run_after: i64,
}

#[cfg(test)]
mod tests {
    use super::shown_url;

    #[test]
    fn passwords_are_not_shown() {
        assert_eq!(
            shown_url("postgres://runway:s3cret@db.example:5432/jobs"),
            "postgres://runway:***@db.example:5432/jobs"
        );
        assert_eq!(shown_url("sqlite://jobs.db"), "sqlite://jobs.db");
    }
}
