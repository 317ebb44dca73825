//! The knobs a simulator is started with.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// Which LowCodeAPI the simulator plays (see `reference/lowcodeapi.md`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// `api.lowcodeapi.com`: bodies wrapped as `{"data": …}`, errors as
    /// `{"data":{"error":{"message","code"}}}`, a real `Retry-After` header on 429.
    #[default]
    Hosted,
    /// The open-source server: `{"message","provider","result","response_headers"}` on success
    /// (always status 200), `{"message","provider","error","headers"}` on errors (upstream status
    /// kept), `Retry-After` only inside the body. Path matching ignores case and one trailing slash.
    SelfHosted,
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Dialect::Hosted => "hosted",
            Dialect::SelfHosted => "self-hosted",
        })
    }
}

impl FromStr for Dialect {
    type Err = String;

    /// Parses `hosted` or `self-hosted` (also `selfhosted`, `self_hosted`), ignoring case.
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "hosted" => Ok(Dialect::Hosted),
            "self-hosted" | "selfhosted" | "self_hosted" => Ok(Dialect::SelfHosted),
            _ => Err(format!(
                "unknown dialect {s:?}: expected hosted or self-hosted"
            )),
        }
    }
}

/// One way of putting a task id in a URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UrlFormat {
    /// `/runwayml/v1/tasks/{id}`.
    New,
    /// `/runwayml/v1/tasks/id?id={id}`.
    Old,
}

/// Which URL formats the simulator routes. A format that is off answers the routing miss
/// `404 {"message":"Not Found"}`, with no token check, like the self-hosted server does for the
/// New Format.
///
/// A task called `id` collides with the Old Format route: wherever the Old Format is routed, the
/// New Format path `/v1/tasks/id` (`/v1/tasks/ID` too in the self-hosted dialect, which ignores
/// case) *is* the Old Format route. Without an `id` query parameter the proxy then asks Runway for
/// `/v1/tasks/null`, and the client gets Runway's 404 in the dialect's envelope (with
/// `provider`), not the routing miss; the request is logged with format
/// [`UrlFormat::Old`] and no task id. Only with [`UrlFormats::NewOnly`] is it a New Format request
/// for a task called `id`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UrlFormats {
    /// Only `/v1/tasks/{id}`.
    NewOnly,
    /// Only `/v1/tasks/id?id={id}` (what the real self-hosted server does).
    OldOnly,
    /// Both (what the hosted service's page promises).
    Both,
}

impl UrlFormats {
    /// Whether `format` is routed.
    pub fn allows(self, format: UrlFormat) -> bool {
        matches!(
            (self, format),
            (UrlFormats::Both, _)
                | (UrlFormats::NewOnly, UrlFormat::New)
                | (UrlFormats::OldOnly, UrlFormat::Old)
        )
    }

    /// The default for a dialect: [`UrlFormats::Both`] for hosted, [`UrlFormats::OldOnly`] for
    /// self-hosted.
    pub fn default_for(dialect: Dialect) -> UrlFormats {
        match dialect {
            Dialect::Hosted => UrlFormats::Both,
            Dialect::SelfHosted => UrlFormats::OldOnly,
        }
    }
}

impl fmt::Display for UrlFormats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UrlFormats::NewOnly => "new",
            UrlFormats::OldOnly => "old",
            UrlFormats::Both => "both",
        })
    }
}

impl FromStr for UrlFormats {
    type Err = String;

    /// Parses `new`, `old` or `both`, ignoring case.
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "new" | "new-only" | "newonly" => Ok(UrlFormats::NewOnly),
            "old" | "old-only" | "oldonly" => Ok(UrlFormats::OldOnly),
            "both" => Ok(UrlFormats::Both),
            _ => Err(format!(
                "unknown URL formats {s:?}: expected new, old or both"
            )),
        }
    }
}

/// How long, in simulated time, a task spends in each state before it finishes.
///
/// A task is `PENDING` for `pending`, then `THROTTLED` for `throttled` (skipped when zero),
/// then `RUNNING` for `running` with `progress` rising from 0 towards 1, then it reaches its
/// [`Outcome`](crate::Outcome).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Timeline {
    /// Time spent `PENDING`.
    pub pending: Duration,
    /// Time spent `THROTTLED` (zero: never throttled).
    pub throttled: Duration,
    /// Time spent `RUNNING`.
    pub running: Duration,
}

impl Timeline {
    /// Tasks finish the moment they are created.
    pub const INSTANT: Timeline = Timeline {
        pending: Duration::ZERO,
        throttled: Duration::ZERO,
        running: Duration::ZERO,
    };

    /// The time from creation to the outcome.
    pub fn total(&self) -> Duration {
        self.pending
            .saturating_add(self.throttled)
            .saturating_add(self.running)
    }
}

impl Default for Timeline {
    /// 2 s pending, never throttled, 20 s running.
    fn default() -> Self {
        Timeline {
            pending: Duration::from_secs(2),
            throttled: Duration::ZERO,
            running: Duration::from_secs(20),
        }
    }
}

/// What the hosted dialect answers to a successful `DELETE` (Runway's `204`, no body).
///
/// The hosted page only says every body is wrapped as `{"data": …}`; the self-hosted server's
/// answer for an empty upstream body is `"result": ""`, so the default mirrors it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum HostedDelete {
    /// `200` with `{"data":""}` (default).
    #[default]
    EmptyData,
    /// `204` with no body and no content type.
    NoContent,
}
