//! PowerShell argument text as Security & Compliance cmdlet records carry it: `Parameters` is
//! one string, `-Name "exfil" -ExchangeLocation ("a@x.com","b@x.com") -Force "True"`, not the
//! Name/Value list of Exchange admin records (Microsoft's Management Activity API schema types
//! it `Edm.String`; Elastic's o365 test records show the shape). Read into name/value pairs so
//! both families are one shape downstream: a list's values are joined by `,`, a switch without a
//! value is `True`.

/// The `-Name value` pairs of `text`, or `None` when it is not argument text (then it is not
/// read as such: the caller treats it as any other unreadable value).
pub fn arguments(text: &str) -> Option<Vec<(String, String)>> {
    let chars: Vec<char> = text.trim().chars().collect();
    if chars.first() != Some(&'-') {
        return None;
    }
    let mut out: Vec<(String, String)> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_whitespace() {
            i += 1;
            continue;
        }
        if chars[i] != '-' {
            return None;
        }
        i += 1;
        let start = i;
        while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
            i += 1;
        }
        if i == start {
            return None;
        }
        let name: String = chars[start..i].iter().collect();
        // `-Confirm:$false`
        if chars.get(i) == Some(&':') {
            i += 1;
            let (value, next) = bare(&chars, i);
            out.push((name, dollar_literal(&value)));
            i = next;
            continue;
        }
        while i < chars.len() && chars[i].is_whitespace() {
            i += 1;
        }
        match chars.get(i) {
            // A switch: the next parameter, or the end.
            None => out.push((name, "True".into())),
            Some('-') if next_is_parameter(&chars, i) => out.push((name, "True".into())),
            Some('(') => {
                let (values, next) = list(&chars, i + 1)?;
                out.push((name, values.join(",")));
                i = next;
            }
            Some(_) => {
                // One value, or a bare comma list (`"a","b"`).
                let mut values = Vec::new();
                loop {
                    let (v, next) = value(&chars, i)?;
                    values.push(v);
                    i = next;
                    if chars.get(i) == Some(&',') {
                        i += 1;
                        continue;
                    }
                    break;
                }
                out.push((name, values.join(",")));
            }
        }
    }
    (!out.is_empty()).then_some(out)
}

fn next_is_parameter(chars: &[char], i: usize) -> bool {
    chars
        .get(i + 1)
        .is_some_and(|c| c.is_alphabetic() || *c == '_')
}

fn dollar_literal(v: &str) -> String {
    match v.to_ascii_lowercase().as_str() {
        "$true" => "True".into(),
        "$false" => "False".into(),
        "$null" => String::new(),
        _ => v.to_string(),
    }
}

/// A `"…"` (doubled or backslashed quotes inside), `'…'`, or bare value at `i`.
fn value(chars: &[char], i: usize) -> Option<(String, usize)> {
    match chars.get(i)? {
        '"' => quoted(chars, i, '"'),
        '\'' => quoted(chars, i, '\''),
        _ => {
            let (v, next) = bare(chars, i);
            Some((dollar_literal(&v), next))
        }
    }
}

fn bare(chars: &[char], mut i: usize) -> (String, usize) {
    let start = i;
    while i < chars.len() && !chars[i].is_whitespace() && chars[i] != ',' && chars[i] != ')' {
        i += 1;
    }
    (chars[start..i].iter().collect(), i)
}

/// A quoted value. A quote inside is doubled (PowerShell) or backslashed (as some exports
/// escape it); a quote not followed by a space, `,`, `)` or the end belongs to the value (the
/// service writes `ContentMatchQuery` with the query's own quotes unescaped).
fn quoted(chars: &[char], i: usize, q: char) -> Option<(String, usize)> {
    let mut out = String::new();
    let mut j = i + 1;
    while j < chars.len() {
        let c = chars[j];
        if c == '\\' && chars.get(j + 1) == Some(&q) {
            out.push(q);
            j += 2;
            continue;
        }
        if c == q {
            if chars.get(j + 1) == Some(&q) {
                out.push(q);
                j += 2;
                continue;
            }
            let ends = match chars.get(j + 1) {
                None => true,
                Some(n) => n.is_whitespace() && ends_here(chars, j + 1) || matches!(n, ',' | ')'),
            };
            if ends {
                return Some((out, j + 1));
            }
        }
        out.push(c);
        j += 1;
    }
    // No closing quote: the rest is the value.
    Some((out, j))
}

/// After a closing quote and spaces: the next parameter or the end.
fn ends_here(chars: &[char], mut i: usize) -> bool {
    while i < chars.len() && chars[i].is_whitespace() {
        i += 1;
    }
    i >= chars.len() || (chars[i] == '-' && next_is_parameter(chars, i))
}

/// `("a","b")` from after the `(`.
fn list(chars: &[char], mut i: usize) -> Option<(Vec<String>, usize)> {
    let mut out = Vec::new();
    loop {
        while i < chars.len() && (chars[i].is_whitespace() || chars[i] == ',') {
            i += 1;
        }
        match chars.get(i) {
            None => return Some((out, i)),
            Some(')') => return Some((out, i + 1)),
            Some(_) => {
                let (v, next) = value(chars, i)?;
                if next == i {
                    return None;
                }
                out.push(v);
                i = next;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::arguments;

    fn get<'a>(args: &'a [(String, String)], name: &str) -> Option<&'a str> {
        args.iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn a_new_compliance_search_as_the_service_writes_it() {
        // Elastic's o365 test record (test-parameter-string.json), verbatim.
        let text = r#"-Name "foo" -Description "" -HoldNames () -PublicFolderLocation () -ExchangeLocationExclusion () -IncludeUserAppContent "True" -SharePointLocationExclusion () -Force "True" -Language "" -SharePointLocation () -ExchangeLocation ("All") -ContentMatchQuery "(c:c)(senderauthor=abc@foo.com)""#;
        let a = arguments(text).unwrap();
        assert_eq!(get(&a, "Name"), Some("foo"));
        assert_eq!(get(&a, "ExchangeLocation"), Some("All"));
        assert_eq!(get(&a, "SharePointLocation"), Some(""));
        assert_eq!(get(&a, "Force"), Some("True"));
        assert_eq!(
            get(&a, "ContentMatchQuery"),
            Some("(c:c)(senderauthor=abc@foo.com)")
        );
    }

    #[test]
    fn lists_switches_and_inner_quotes() {
        let text = r#"-Name "exfil 1" -ExchangeLocation ("ceo@contoso.com","cfo@contoso.com") -ContentMatchQuery "subject:"wire transfer" AND received>=2024-01-01" -Export -Confirm:$false"#;
        let a = arguments(text).unwrap();
        assert_eq!(get(&a, "Name"), Some("exfil 1"));
        assert_eq!(
            get(&a, "ExchangeLocation"),
            Some("ceo@contoso.com,cfo@contoso.com")
        );
        assert_eq!(
            get(&a, "ContentMatchQuery"),
            Some(r#"subject:"wire transfer" AND received>=2024-01-01"#)
        );
        assert_eq!(get(&a, "Export"), Some("True"));
        assert_eq!(get(&a, "Confirm"), Some("False"));
        let doubled = arguments(r#"-ContentMatchQuery "subject:""pay"" OR x" -Purge"#).unwrap();
        assert_eq!(
            get(&doubled, "ContentMatchQuery"),
            Some(r#"subject:"pay" OR x"#)
        );
        assert_eq!(get(&doubled, "Purge"), Some("True"));
    }

    #[test]
    fn text_that_is_no_argument_list_is_not_read_as_one() {
        for t in ["", "System.Object[]", "{\"a\":1}", "Name=x", "- x"] {
            assert!(arguments(t).is_none(), "{t}");
        }
    }
}
