//! Small helpers on well-kept crates: a seeded random generator (`rand`), UUIDs (`uuid`),
//! RFC 3339 dates (`chrono`), query strings (`form_urlencoded`) and path segments
//! (`percent-encoding`).

use std::time::SystemTime;

use chrono::{DateTime, SecondsFormat, Utc};
use rand::rngs::ChaCha8Rng;
use rand::{Rng as _, RngExt as _, SeedableRng as _};

/// The simulator's generator: ChaCha8, whose output for a seed is fixed by its algorithm (not
/// by the platform or a crate's choice of default generator), so a seed printed by a failing
/// run reproduces it.
#[derive(Debug)]
pub(crate) struct Rng(ChaCha8Rng);

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(ChaCha8Rng::seed_from_u64(seed))
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Uniform in `[0, 1)`.
    pub(crate) fn next_f64(&mut self) -> f64 {
        self.0.random()
    }

    /// A random (version 4) UUID in its lower-case hyphenated form.
    pub(crate) fn uuid_v4(&mut self) -> String {
        let bytes: [u8; 16] = self.0.random();
        uuid::Builder::from_random_bytes(bytes)
            .into_uuid()
            .hyphenated()
            .to_string()
    }
}

/// A seed that differs from run to run.
pub(crate) fn random_seed() -> u64 {
    rand::random()
}

/// `2026-08-01T12:00:00.000Z`, as JavaScript's `toISOString` writes it (Runway's `createdAt`).
pub(crate) fn rfc3339(t: SystemTime) -> String {
    DateTime::<Utc>::from(t).to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Decodes `%XX` escapes in a path segment; invalid escapes stay as they are and invalid UTF-8
/// is replaced, as Node does.
pub(crate) fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// Parses `a=1&b=2` into decoded pairs (`+` is a space), in order, keeping repeats.
pub(crate) fn parse_query(raw: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(raw.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    #[test]
    fn dates() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let t = UNIX_EPOCH + Duration::from_millis(1_785_585_600_123);
        assert_eq!(rfc3339(t), "2026-08-01T12:00:00.123Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(rfc3339(leap), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn uuids_are_v4() {
        let mut r = Rng::new(7);
        let u = r.uuid_v4();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"));
        assert_ne!(u, r.uuid_v4());
        assert_eq!(Rng::new(7).uuid_v4(), u);
    }

    #[test]
    fn queries() {
        assert_eq!(
            parse_query("id=a%2Fb&api_token=at_x+y&flag&&%ZZ=%"),
            vec![
                ("id".into(), "a/b".into()),
                ("api_token".into(), "at_x y".into()),
                ("flag".into(), "".into()),
                ("%ZZ".into(), "%".into()),
            ]
        );
        assert_eq!(percent_decode("%e2%82%ac%ff%4+"), "€\u{fffd}%4+");
    }
}
