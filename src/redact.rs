//! Keeping the API token out of every string this crate shows.
//!
//! The token travels in the URL (`?api_token=at_…`), so anything that prints a URL leaks it, and
//! the self-hosted server's 401 body echoes the request's query back. Every message, excerpt and
//! log field built from the wire passes through [`redact`].

/// What a token is replaced with.
pub const MASK: &str = "[REDACTED]";

/// Replaces the token itself, and any `api_token` value in query or JSON form, with [`MASK`].
pub fn redact(text: &str, token: Option<&str>) -> String {
    let mut out = match token {
        Some(token) if !token.is_empty() => text.replace(token, MASK),
        _ => text.to_owned(),
    };
    out = mask_after(&out, "api_token=", |c| {
        matches!(c, '&' | '#' | ' ' | '"' | '\'' | '\n' | '>' | '<' | ')')
    });
    for key in [
        "\"api_token\":\"",
        "\"api_token\": \"",
        "\\\"api_token\\\":\\\"",
    ] {
        out = mask_after(&out, key, |c| c == '"' || c == '\\');
    }
    out
}

/// Masks the value that follows every occurrence of `key`, up to the first `end` character.
fn mask_after(text: &str, key: &str, end: impl Fn(char) -> bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(key) {
        let (before, after) = rest.split_at(at + key.len());
        out.push_str(before);
        let value_len = after.find(&end).unwrap_or(after.len());
        if value_len > 0 && !after[..value_len].starts_with(MASK) {
            out.push_str(MASK);
        } else {
            out.push_str(&after[..value_len]);
        }
        rest = &after[value_len..];
    }
    out.push_str(rest);
    out
}

/// A link as it may be shown: scheme, host, port and path only. The query (where signed links
/// keep their signature, e.g. Runway's `_jwt`), the fragment and any user info are dropped.
pub fn link(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(parsed) => {
            let mut shown = format!("{}://{}", parsed.scheme(), parsed.host_str().unwrap_or(""));
            if let Some(port) = parsed.port() {
                shown.push_str(&format!(":{port}"));
            }
            shown.push_str(parsed.path());
            shown
        }
        // Not a URL: keep what comes before any query or fragment, and no user info.
        Err(_) => {
            let cut = url.split(['?', '#']).next().unwrap_or("");
            match cut.rsplit_once('@') {
                Some((_, rest)) => rest.to_owned(),
                None => cut.to_owned(),
            }
        }
    }
}

/// A bounded excerpt of a body for error messages: at most `limit` bytes, on a char boundary,
/// redacted, with control characters flattened so the message stays on one line.
pub fn excerpt(body: &[u8], limit: usize, token: Option<&str>) -> String {
    // Redact before cutting: a token straddling the cut would otherwise survive as a prefix that
    // `redact` no longer recognises. Only a token's length (and an `api_token=` key) past the
    // limit is needed for that, so a huge body is never copied whole.
    let window = limit
        .saturating_add(token.map_or(0, str::len))
        .saturating_add("api_token=".len());
    let text = String::from_utf8_lossy(&body[..body.len().min(window)]);
    let text = redact(&text, token);
    let mut cut = text.len().min(limit);
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let mut short: String = text[..cut]
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if cut < text.len() || body.len() > window {
        short.push('…');
    }
    short
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_and_api_token_values_are_masked() {
        let token = "at_secret123";
        assert_eq!(
            redact(
                "GET http://h/v1/tasks/x?api_token=at_secret123&id=1",
                Some(token)
            ),
            "GET http://h/v1/tasks/x?api_token=[REDACTED]&id=1"
        );
        assert_eq!(
            redact(r#"{"query":{"api_token":"at_other"}}"#, Some(token)),
            r#"{"query":{"api_token":"[REDACTED]"}}"#
        );
        assert_eq!(
            redact("token at_secret123 here", Some(token)),
            "token [REDACTED] here"
        );
        assert_eq!(redact("?api_token=at_x", None), "?api_token=[REDACTED]");
        assert_eq!(redact("no secrets", Some(token)), "no secrets");
    }

    #[test]
    fn links_lose_their_query() {
        assert_eq!(
            link("https://user:pw@cdn.example:8443/a/b.mp4?_jwt=x.y.z#f"),
            "https://cdn.example:8443/a/b.mp4"
        );
        assert_eq!(link("not a url?_jwt=secret"), "not a url");
    }

    #[test]
    fn excerpts_are_bounded_and_single_line() {
        let body = "é".repeat(1000);
        let short = excerpt(body.as_bytes(), 101, None);
        assert!(short.len() <= 101 + '…'.len_utf8());
        assert_eq!(excerpt(b"a\nb", 10, None), "a b");
    }

    #[test]
    fn a_token_cut_by_the_excerpt_leaves_no_prefix() {
        let token = "at_secret123";
        for pad in 0..20 {
            let body = format!("{}Bearer {token} and more", "x".repeat(pad));
            let short = excerpt(body.as_bytes(), 12, Some(token));
            assert!(!short.contains("at_s"), "{short:?}");
            let body = format!("{}?api_token={token}&id=1", "x".repeat(pad));
            let short = excerpt(body.as_bytes(), 15, Some("other"));
            assert!(!short.contains("at_s"), "{short:?}");
        }
        assert_eq!(excerpt(b"short", 300, Some(token)), "short");
        assert_eq!(excerpt(&[b'y'; 1000], 3, Some(token)), "yyy…");
    }
}
