//! `--stream`: the name of the Redis Stream an entry goes to, from a template with
//! `{account_id}`, `{type}` and `{connection}` placeholders. Pure.

/// What an absent value (a lifecycle event's account, a message without a type) becomes.
pub const ABSENT: &str = "_";

/// One piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Account,
    Type,
}

/// A checked `--stream` template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamTemplate {
    pieces: Vec<Piece>,
    /// The name when the template depends on no event (no `{account_id}` or `{type}`).
    fixed: Option<String>,
}

impl StreamTemplate {
    /// Parses a template; the error names the bad placeholder and the accepted ones.
    pub fn parse(template: &str, connection: usize) -> Result<StreamTemplate, String> {
        if template.is_empty() {
            return Err("the stream name is empty".into());
        }
        let mut pieces = Vec::new();
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                pieces.push(Piece::Text(rest[..open].to_string()));
            }
            let Some(close) = rest[open..].find('}') else {
                return Err(format!(
                    "'{template}' has a '{{' without its '}}' (placeholders: {{account_id}}, {{type}}, {{connection}})"
                ));
            };
            pieces.push(match &rest[open + 1..open + close] {
                "account_id" => Piece::Account,
                "type" => Piece::Type,
                "connection" => Piece::Text(connection.to_string()),
                other => {
                    return Err(format!(
                        "unknown placeholder '{{{other}}}' in '{template}' (placeholders: {{account_id}}, {{type}}, {{connection}})"
                    ))
                }
            });
            rest = &rest[open + close + 1..];
        }
        if !rest.is_empty() {
            pieces.push(Piece::Text(rest.to_string()));
        }
        let fixed = pieces
            .iter()
            .all(|p| matches!(p, Piece::Text(_)))
            .then(|| render(&pieces, None, None));
        Ok(StreamTemplate { pieces, fixed })
    }

    /// The one stream name when the template has no per-event placeholder.
    pub fn fixed(&self) -> Option<&str> {
        self.fixed.as_deref()
    }

    /// Writes the name for an event with this account and type (absent: [`ABSENT`]) into
    /// `out` (cleared first).
    pub fn render_into(&self, out: &mut String, account: Option<&str>, ty: Option<&str>) {
        out.clear();
        for p in &self.pieces {
            match p {
                Piece::Text(t) => out.push_str(t),
                Piece::Account => out.push_str(account.unwrap_or(ABSENT)),
                Piece::Type => out.push_str(ty.unwrap_or(ABSENT)),
            }
        }
    }
}

fn render(pieces: &[Piece], account: Option<&str>, ty: Option<&str>) -> String {
    let t = StreamTemplate {
        pieces: pieces.to_vec(),
        fixed: None,
    };
    let mut out = String::new();
    t.render_into(&mut out, account, ty);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(t: &str, account: Option<&str>, ty: Option<&str>) -> String {
        let mut out = String::from("old");
        StreamTemplate::parse(t, 2)
            .unwrap()
            .render_into(&mut out, account, ty);
        out
    }

    #[test]
    fn placeholders() {
        assert_eq!(name("tw", Some("1"), Some("t")), "tw");
        assert_eq!(
            name(
                "tw:{account_id}:{type}",
                Some("123"),
                Some("GatewayUserTrade")
            ),
            "tw:123:GatewayUserTrade"
        );
        assert_eq!(name("tw:{account_id}", None, None), "tw:_");
        assert_eq!(name("{type}", None, Some("q")), "q");
        assert_eq!(name("feed-{connection}", None, None), "feed-2");
    }

    #[test]
    fn fixed_names() {
        let t = StreamTemplate::parse("desk:{connection}", 3).unwrap();
        assert_eq!(t.fixed(), Some("desk:3"));
        assert_eq!(StreamTemplate::parse("a:{type}", 1).unwrap().fixed(), None);
    }

    #[test]
    fn bad_templates() {
        let e = StreamTemplate::parse("tw:{acount}", 1).unwrap_err();
        assert!(e.contains("unknown placeholder '{acount}'"), "{e}");
        assert!(e.contains("{account_id}"), "{e}");
        let e = StreamTemplate::parse("tw:{type", 1).unwrap_err();
        assert!(e.contains("without its '}'"), "{e}");
        assert!(StreamTemplate::parse("", 1).unwrap_err().contains("empty"));
    }
}
