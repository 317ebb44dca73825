//! What the simulator holds: its settings, its clock, tasks, the request log and queued faults.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;

use crate::config::{Dialect, HostedDelete, Timeline, UrlFormats};
use crate::fault::{Fault, FaultRule, Route};
use crate::log::LoggedRequest;
use crate::task::{Outcome, Removal, Task, TaskInfo};
use crate::util::Rng;
use crate::validate::Accepted;
use crate::wire::{Created, Credits, raw};

use serde_json::value::RawValue;

/// Settings fixed at start.
#[derive(Debug)]
pub(crate) struct Config {
    pub(crate) dialect: Dialect,
    pub(crate) formats: UrlFormats,
    pub(crate) tokens: Vec<String>,
    pub(crate) unauthorized_tokens: Vec<String>,
    pub(crate) hosted_delete: HostedDelete,
    pub(crate) estimated_cost: bool,
    pub(crate) definition: Bytes,
    pub(crate) epoch: SystemTime,
    /// The storage host: link signing, and the videos it made.
    pub(crate) outputs: crate::storage::Outputs,
    /// Whether Runway gets `X-Runway-Version` (else it answers 400 to every call).
    pub(crate) forward_runway_version: bool,
    /// Where [`Fault::CrossOriginRedirect`] points.
    pub(crate) other_origin: std::net::SocketAddr,
}

/// Simulated time: scaled real time, or a manual clock, plus whatever tests advanced it by.
#[derive(Debug)]
pub(crate) struct Clock {
    started: Instant,
    scale: f64,
    manual: bool,
    offset: Mutex<Duration>,
}

impl Clock {
    pub(crate) fn new(scale: f64, manual: bool) -> Clock {
        Clock {
            started: Instant::now(),
            scale,
            manual,
            offset: Mutex::new(Duration::ZERO),
        }
    }

    pub(crate) fn now(&self) -> Duration {
        let base = if self.manual {
            Duration::ZERO
        } else {
            Duration::try_from_secs_f64(self.started.elapsed().as_secs_f64() * self.scale)
                .unwrap_or(Duration::MAX)
        };
        base.saturating_add(*lock(&self.offset))
    }

    pub(crate) fn advance(&self, by: Duration) {
        let mut offset = lock(&self.offset);
        *offset = offset.saturating_add(by);
    }

    pub(crate) fn real_elapsed(&self) -> Duration {
        self.started.elapsed()
    }
}

/// A poisoned lock only means a test thread panicked while holding it; the data is still usable.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Mutable state, behind one lock never held across an await.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) rng: Rng,
    pub(crate) tasks: Vec<Task>,
    pub(crate) task_index: HashMap<String, usize>,
    pub(crate) log: Vec<LoggedRequest>,
    /// How many entries `clear_requests` removed: indexes keep counting from there.
    pub(crate) log_cleared: usize,
    pub(crate) faults: Vec<FaultRule>,
    /// Fired counts of faults no longer queued, for [`crate::FaultHandle::fired`].
    pub(crate) retired_faults: HashMap<u64, u64>,
    pub(crate) next_fault_id: u64,
    pub(crate) default_outcome: Outcome,
    pub(crate) queued_outcomes: VecDeque<Outcome>,
    pub(crate) prompt_outcomes: Vec<(String, Outcome)>,
    pub(crate) timeline: Timeline,
}

impl State {
    pub(crate) fn new(
        seed: u64,
        default_outcome: Outcome,
        prompt_outcomes: Vec<(String, Outcome)>,
        timeline: Timeline,
    ) -> State {
        State {
            rng: Rng::new(seed),
            tasks: Vec::new(),
            task_index: HashMap::new(),
            log: Vec::new(),
            log_cleared: 0,
            faults: Vec::new(),
            retired_faults: HashMap::new(),
            next_fault_id: 0,
            default_outcome,
            queued_outcomes: VecDeque::new(),
            prompt_outcomes,
            timeline,
        }
    }
}

/// Everything the server and the handle share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) config: Config,
    pub(crate) clock: Clock,
    pub(crate) seed: u64,
    state: Mutex<State>,
}

impl Shared {
    pub(crate) fn new(config: Config, clock: Clock, seed: u64, state: State) -> Shared {
        Shared {
            config,
            clock,
            seed,
            state: Mutex::new(state),
        }
    }

    pub(crate) fn with_state<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        f(&mut lock(&self.state))
    }

    /// Appends to the log; returns the entry's index.
    pub(crate) fn log_request(&self, mut entry: LoggedRequest) -> usize {
        entry.at = self.clock.real_elapsed();
        entry.sim_at = self.clock.now();
        self.with_state(|s| {
            entry.index = s.log_cleared + s.log.len();
            let index = entry.index;
            s.log.push(entry);
            index
        })
    }

    fn with_entry(&self, index: usize, f: impl FnOnce(&mut LoggedRequest)) {
        self.with_state(|s| {
            let position = index.checked_sub(s.log_cleared);
            if let Some(e) = position.and_then(|p| s.log.get_mut(p)) {
                f(e);
            }
        });
    }

    pub(crate) fn record_fault(&self, index: usize, fault: &Fault) {
        self.with_entry(index, |e| e.fault = Some(fault.clone()));
    }

    pub(crate) fn record_status(&self, index: usize, status: u16) {
        self.with_entry(index, |e| e.status = Some(status));
    }

    /// The fault to fire on a request for `route`, if any; counts it.
    pub(crate) fn take_fault(&self, route: Route) -> Option<Fault> {
        self.with_state(|s| {
            let mut fired = None;
            for i in 0..s.faults.len() {
                let rule = &s.faults[i];
                if !route.matches(rule.route) || rule.remaining == Some(0) {
                    continue;
                }
                if rule.probability < 1.0 {
                    let p = rule.probability;
                    if s.rng.next_f64() >= p {
                        continue;
                    }
                }
                let rule = &mut s.faults[i];
                rule.fired += 1;
                if let Some(n) = rule.remaining.as_mut() {
                    *n -= 1;
                }
                fired = Some((i, rule.fault.clone()));
                break;
            }
            let (i, fault) = fired?;
            if s.faults[i].remaining == Some(0) {
                let rule = s.faults.remove(i);
                s.retired_faults.insert(rule.id, rule.fired);
            }
            Some(fault)
        })
    }

    /// Makes a task for an accepted create; returns Runway's answer body.
    pub(crate) fn create_task(
        &self,
        accepted: Accepted,
        request: serde_json::Value,
        create_request: usize,
    ) -> Box<RawValue> {
        let now = self.clock.now();
        let estimated_cost = self.config.estimated_cost;
        self.with_state(|s| {
            let id = s.rng.uuid_v4();
            let outcome = choose_outcome(s, accepted.prompt_text.as_deref());
            let credits = accepted.credits;
            s.task_index.insert(id.clone(), s.tasks.len());
            s.tasks.push(Task {
                id: id.clone(),
                model: accepted.model,
                prompt_text: accepted.prompt_text,
                request,
                create_request,
                outcome,
                timeline: s.timeline,
                created: now,
                credits,
                removed: None,
                delete_calls: 0,
            });
            raw(&Created {
                id: &id,
                estimated_cost: estimated_cost.then_some(Credits { credits }),
            })
        })
    }

    /// Runway's task object, or `None` when unknown or removed.
    pub(crate) fn get_task(&self, id: &str) -> Option<Box<RawValue>> {
        let now = self.clock.now();
        self.with_state(|s| {
            let task = s.task_index.get(id).and_then(|&i| s.tasks.get(i))?;
            if task.removed.is_some() {
                return None;
            }
            let body = task.to_body(
                now,
                self.config.epoch,
                self.config.estimated_cost,
                &self.config.outputs,
            );
            Some(raw(&body))
        })
    }

    /// Cancels or deletes; `false` when unknown or already removed.
    pub(crate) fn delete_task(&self, id: &str) -> bool {
        let now = self.clock.now();
        self.with_state(|s| {
            let Some(task) = s.task_index.get(id).and_then(|&i| s.tasks.get_mut(i)) else {
                return false;
            };
            task.delete_calls += 1;
            if task.removed.is_some() {
                return false;
            }
            let removal = match task.phase(now) {
                crate::task::Phase::Done => Removal::Deleted,
                _ => Removal::Cancelled,
            };
            task.removed = Some((removal, now));
            true
        })
    }

    pub(crate) fn task_infos(&self) -> Vec<TaskInfo> {
        let now = self.clock.now();
        self.with_state(|s| s.tasks.iter().map(|t| t.info(now)).collect())
    }
}

fn choose_outcome(s: &mut State, prompt_text: Option<&str>) -> Outcome {
    if let Some(text) = prompt_text
        && let Some((_, o)) = s
            .prompt_outcomes
            .iter()
            .find(|(marker, _)| text.contains(marker.as_str()))
    {
        return o.clone();
    }
    s.queued_outcomes
        .pop_front()
        .unwrap_or_else(|| s.default_outcome.clone())
}
