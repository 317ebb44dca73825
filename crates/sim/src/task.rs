//! Tasks: how they move through their states over simulated time, and how they look on the wire.

use std::time::{Duration, SystemTime};

use serde::Serialize;

use crate::config::Timeline;
use crate::util::rfc3339;
use crate::wire::Credits;

/// How a task ends.
///
/// Chosen when the task is created: first by a prompt marker
/// ([`Builder::outcome_for_prompt`](crate::Builder::outcome_for_prompt)), else by the next queued
/// outcome ([`Simulator::next_outcome`](crate::Simulator::next_outcome)), else by the default
/// ([`Builder::default_outcome`](crate::Builder::default_outcome), itself [`Outcome::Succeed`]
/// by default).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// `SUCCEEDED` with `output: ["http://127.0.0.1:<storage-port>/outputs/<id>/0.mp4?_jwt=…"]`
    /// (a fresh signed link to a real video on every `GET`; see
    /// [`Simulator::storage_url`](crate::Simulator::storage_url)) and
    /// `cost: {"credits": <per-model rate × duration>}`.
    #[default]
    Succeed,
    /// `FAILED` with `failure` and, when `code` is set, `failureCode`.
    Fail {
        /// The `failureCode` (e.g. `SAFETY.INPUT.TEXT`); `None` omits the field.
        code: Option<String>,
        /// The human text in `failure`.
        failure: String,
    },
    /// `CANCELLED` (by Runway, not by a `DELETE`) with `cost: {"credits": 0}`; still readable.
    Cancel,
    /// Never finishes: `RUNNING` forever, `progress` stopping at 0.99.
    RunForever,
    /// Ends with this status string and no other field: a status Runway may add later.
    UnknownStatus(String),
}

impl Outcome {
    /// `FAILED` with a failure code, e.g. `Outcome::fail("SAFETY.INPUT.TEXT", "prompt flagged")`.
    pub fn fail(code: impl Into<String>, failure: impl Into<String>) -> Outcome {
        Outcome::Fail {
            code: Some(code.into()),
            failure: failure.into(),
        }
    }
}

/// How a task left the simulator through a `DELETE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Removal {
    /// Deleted while `PENDING`, `THROTTLED` or `RUNNING`: cancelled.
    Cancelled,
    /// Deleted after it had finished.
    Deleted,
}

/// A snapshot of one task the simulator holds (see [`Simulator::tasks`](crate::Simulator::tasks)).
///
/// Every accepted create makes exactly one task; removed tasks stay in the snapshot with
/// [`removed`](TaskInfo::removed) set, so tests can count them.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskInfo {
    /// The task id (a UUID v4).
    pub id: String,
    /// The model of the create request.
    pub model: String,
    /// The `promptText` of the create request.
    pub prompt_text: Option<String>,
    /// The create request's body, as received.
    pub request: serde_json::Value,
    /// The [`LoggedRequest::index`](crate::LoggedRequest::index) of the create that made it.
    pub create_request: usize,
    /// How it ends (or ended).
    pub outcome: Outcome,
    /// The status a `GET` shows now, or showed when the task was removed (`CANCELLED` for a
    /// cancelled task).
    pub status: String,
    /// The `progress` while `RUNNING`.
    pub progress: Option<f64>,
    /// When it was created, in simulated time since the simulator started.
    pub created_at: Duration,
    /// Set once a `DELETE` removed it; a `GET` then answers 404.
    pub removed: Option<Removal>,
    /// How many `DELETE` calls named it (successful or not).
    pub delete_calls: u32,
}

/// A task as held.
#[derive(Clone, Debug)]
pub(crate) struct Task {
    pub(crate) id: String,
    pub(crate) model: String,
    pub(crate) prompt_text: Option<String>,
    pub(crate) request: serde_json::Value,
    pub(crate) create_request: usize,
    pub(crate) outcome: Outcome,
    pub(crate) timeline: Timeline,
    pub(crate) created: Duration,
    pub(crate) credits: u64,
    pub(crate) removed: Option<(Removal, Duration)>,
    pub(crate) delete_calls: u32,
}

/// Where a task is in its life at some instant.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Phase {
    Pending,
    Throttled,
    Running(f64),
    Done,
}

impl Task {
    pub(crate) fn phase(&self, now: Duration) -> Phase {
        let age = now.saturating_sub(self.created);
        let t = self.timeline;
        let running_from = t.pending.saturating_add(t.throttled);
        if age < t.pending {
            return Phase::Pending;
        }
        if age < running_from {
            return Phase::Throttled;
        }
        let in_running = age - running_from;
        if self.outcome == Outcome::RunForever {
            let fraction = if t.running.is_zero() {
                1.0
            } else {
                in_running.as_secs_f64() / t.running.as_secs_f64()
            };
            return Phase::Running(progress(fraction).min(0.99));
        }
        if in_running < t.running {
            return Phase::Running(progress(in_running.as_secs_f64() / t.running.as_secs_f64()));
        }
        Phase::Done
    }

    /// The instant the task's state is read at: now, or the moment it was removed.
    fn seen_at(&self, now: Duration) -> Duration {
        self.removed.map_or(now, |(_, at)| at)
    }

    pub(crate) fn status(&self, now: Duration) -> (String, Option<f64>) {
        match self.phase(self.seen_at(now)) {
            Phase::Pending => ("PENDING".into(), None),
            Phase::Throttled => ("THROTTLED".into(), None),
            Phase::Running(p) => ("RUNNING".into(), Some(p)),
            Phase::Done => match &self.outcome {
                Outcome::Succeed => ("SUCCEEDED".into(), None),
                Outcome::Fail { .. } => ("FAILED".into(), None),
                Outcome::Cancel => ("CANCELLED".into(), None),
                Outcome::RunForever => ("RUNNING".into(), Some(0.99)),
                Outcome::UnknownStatus(s) => (s.clone(), None),
            },
        }
    }

    pub(crate) fn info(&self, now: Duration) -> TaskInfo {
        let (mut status, progress) = self.status(now);
        if self.removed.is_some_and(|(r, _)| r == Removal::Cancelled) {
            status = "CANCELLED".into();
        }
        TaskInfo {
            id: self.id.clone(),
            model: self.model.clone(),
            prompt_text: self.prompt_text.clone(),
            request: self.request.clone(),
            create_request: self.create_request,
            outcome: self.outcome.clone(),
            status,
            progress,
            created_at: self.created,
            removed: self.removed.map(|(r, _)| r),
            delete_calls: self.delete_calls,
        }
    }

    /// Runway's task object at `now`.
    pub(crate) fn to_body(
        &self,
        now: Duration,
        epoch: SystemTime,
        estimated_cost: bool,
        outputs: &crate::storage::Outputs,
    ) -> TaskBody<'_> {
        let (status, _) = self.status(now);
        let mut body = TaskBody {
            id: &self.id,
            status,
            created_at: rfc3339(epoch.checked_add(self.created).unwrap_or(epoch)),
            progress: None,
            estimated_cost: None,
            output: None,
            cost: None,
            failure: None,
            failure_code: None,
        };
        let credits = Credits {
            credits: self.credits,
        };
        match self.phase(now) {
            Phase::Pending | Phase::Throttled => {
                body.estimated_cost = estimated_cost.then_some(credits);
            }
            Phase::Running(p) => {
                body.progress = Some(p);
                body.estimated_cost = estimated_cost.then_some(credits);
            }
            Phase::Done => match &self.outcome {
                Outcome::Succeed => {
                    body.output = Some(outputs.links(&self.id, epoch, now));
                    body.cost = Some(credits);
                }
                Outcome::Fail { code, failure } => {
                    body.failure = Some(failure);
                    body.failure_code = code.as_deref();
                }
                Outcome::Cancel => body.cost = Some(Credits { credits: 0 }),
                Outcome::RunForever | Outcome::UnknownStatus(_) => {}
            },
        }
        body
    }
}

/// Runway's task object. Fields come out in this order; absent ones are left out.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TaskBody<'a> {
    id: &'a str,
    status: String,
    created_at: String,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "js_number")]
    progress: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    estimated_cost: Option<Credits>,
    #[serde(skip_serializing_if = "Option::is_none")]
    output: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cost: Option<Credits>,
    #[serde(skip_serializing_if = "Option::is_none")]
    failure: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    failure_code: Option<&'a str>,
}

/// A number as JavaScript writes it: a whole value without a fraction (`0`, not `0.0`).
fn js_number<S: serde::Serializer>(value: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) if v.fract() == 0.0 && v.abs() < 9_007_199_254_740_992.0 => {
            s.serialize_i64(*v as i64)
        }
        Some(v) => s.serialize_f64(*v),
        None => s.serialize_none(),
    }
}

/// Two decimals, rounded down, so a running task never shows 1.
fn progress(fraction: f64) -> f64 {
    let f = if fraction.is_finite() {
        fraction.clamp(0.0, 1.0)
    } else {
        0.0
    };
    ((f * 100.0).floor() / 100.0).min(0.99)
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use super::*;

    #[test]
    fn task_bodies_keep_runways_field_order_and_javascript_numbers() {
        let task = Task {
            id: "t".into(),
            model: "gen4_turbo".into(),
            prompt_text: None,
            request: serde_json::Value::Null,
            create_request: 0,
            outcome: Outcome::fail("SAFETY.INPUT.TEXT", "no"),
            timeline: Timeline {
                pending: Duration::ZERO,
                throttled: Duration::ZERO,
                running: Duration::from_secs(100),
            },
            created: Duration::ZERO,
            credits: 50,
            removed: None,
            delete_calls: 0,
        };
        let at = |secs, cost| {
            let outputs = crate::storage::Outputs::new(0, Duration::from_secs(60), None, 24);
            let body = task.to_body(Duration::from_secs(secs), UNIX_EPOCH, cost, &outputs);
            serde_json::to_string(&body).unwrap()
        };
        assert_eq!(
            at(0, true),
            r#"{"id":"t","status":"RUNNING","createdAt":"1970-01-01T00:00:00.000Z","progress":0,"estimatedCost":{"credits":50}}"#
        );
        assert_eq!(
            at(35, false),
            r#"{"id":"t","status":"RUNNING","createdAt":"1970-01-01T00:00:00.000Z","progress":0.35}"#
        );
        assert_eq!(
            at(100, true),
            r#"{"id":"t","status":"FAILED","createdAt":"1970-01-01T00:00:00.000Z","failure":"no","failureCode":"SAFETY.INPUT.TEXT"}"#
        );
    }
}
