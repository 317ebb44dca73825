//! Tasks: how they move through their states over simulated time, and how they look on the wire.

use std::time::{Duration, SystemTime};

use crate::config::Timeline;
use crate::json::J;
use crate::util::rfc3339;

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
    pub(crate) fn to_j(
        &self,
        now: Duration,
        epoch: SystemTime,
        estimated_cost: bool,
        outputs: &crate::storage::Outputs,
    ) -> J {
        let created_at = rfc3339(epoch.checked_add(self.created).unwrap_or(epoch));
        let mut j = J::obj([("id", J::from(&self.id))]);
        let estimate = || J::obj([("credits", J::from(self.credits))]);
        let (status, _) = self.status(now);
        j.push("status", J::from(status));
        j.push("createdAt", J::from(created_at));
        match self.phase(now) {
            Phase::Pending | Phase::Throttled => {
                if estimated_cost {
                    j.push("estimatedCost", estimate());
                }
            }
            Phase::Running(p) => {
                j.push("progress", J::from(p));
                if estimated_cost {
                    j.push("estimatedCost", estimate());
                }
            }
            Phase::Done => match &self.outcome {
                Outcome::Succeed => {
                    let links = outputs.links(&self.id, epoch, now);
                    j.push("output", J::Arr(links.into_iter().map(J::from).collect()));
                    j.push("cost", J::obj([("credits", J::from(self.credits))]));
                }
                Outcome::Fail { code, failure } => {
                    j.push("failure", J::from(failure));
                    if let Some(code) = code {
                        j.push("failureCode", J::from(code));
                    }
                }
                Outcome::Cancel => {
                    j.push("cost", J::obj([("credits", J::from(0u64))]));
                }
                Outcome::RunForever | Outcome::UnknownStatus(_) => {}
            },
        }
        j
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
