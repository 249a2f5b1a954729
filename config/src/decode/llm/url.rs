//! The grammar of `llm.base_url`: enough of RFC 3986 to refuse what would not work as
//! an API root, without a URL parser dependency.

use crate::error::LlmProblem;

/// Checks `text` as an API root and returns it without trailing `/`s, so that endpoint
/// paths can be appended as `{base_url}/chat/completions`.
pub(super) fn check(text: &str) -> Result<String, LlmProblem> {
    let bad = |reason| LlmProblem::BadUrl {
        value: text.to_owned(),
        reason,
    };
    let lower = text.to_ascii_lowercase();
    let rest_at = if lower.starts_with("https://") {
        "https://".len()
    } else if lower.starts_with("http://") {
        "http://".len()
    } else {
        return Err(bad("it does not start with http:// or https://"));
    };
    if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad("it contains whitespace"));
    }
    if text.contains(['?', '#']) {
        return Err(bad(
            "it has a query or fragment, and endpoint paths are appended to it",
        ));
    }
    let rest = &text[rest_at..];
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.contains('@') {
        return Err(LlmProblem::UrlCredentials);
    }
    let host = host(authority).map_err(bad)?;
    if host.is_empty() {
        return Err(bad("it has no host"));
    }
    Ok(text.trim_end_matches('/').to_owned())
}

/// The host of `authority` (`host`, `host:port`, `[v6]` or `[v6]:port`), with the port
/// checked.
fn host(authority: &str) -> Result<&str, &'static str> {
    let (host, port) = match authority.strip_prefix('[') {
        Some(bracketed) => {
            let (v6, after) = bracketed
                .split_once(']')
                .ok_or("its IPv6 address has no closing ']'")?;
            let port = match after {
                "" => None,
                _ => Some(
                    after
                        .strip_prefix(':')
                        .ok_or("junk after the IPv6 address")?,
                ),
            };
            (v6, port)
        }
        None => match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        },
    };
    if let Some(port) = port {
        let valid = port.parse::<u16>().is_ok_and(|port| port > 0);
        if !valid {
            return Err("its port is not a number from 1 to 65535");
        }
    }
    Ok(host)
}

#[cfg(test)]
mod tests {
    use super::check;
    use crate::error::LlmProblem;

    #[test]
    fn accepts_api_roots_and_trims_the_slash() {
        for (text, expected) in [
            ("https://api.openai.com/v1", "https://api.openai.com/v1"),
            (
                "https://api.anthropic.com/v1/",
                "https://api.anthropic.com/v1",
            ),
            ("http://127.0.0.1:8080/v1", "http://127.0.0.1:8080/v1"),
            ("http://[::1]:11434/v1", "http://[::1]:11434/v1"),
            ("HTTP://localhost", "HTTP://localhost"),
        ] {
            assert_eq!(check(text).as_deref(), Ok(expected), "{text}");
        }
    }

    #[test]
    fn refuses_what_would_not_work() {
        for text in [
            "api.openai.com/v1",
            "ftp://host/",
            "https://",
            "https:///v1",
            "https://host:0/v1",
            "https://host:99999",
            "https://host:port",
            "https://[::1/v1",
            "https://host/v1?x=1",
            "https://host /v1",
        ] {
            assert!(
                matches!(check(text), Err(LlmProblem::BadUrl { .. })),
                "{text}"
            );
        }
        assert_eq!(
            check("https://user:sk-123@host/v1"),
            Err(LlmProblem::UrlCredentials)
        );
    }
}
