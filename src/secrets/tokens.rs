//! Running the token rules of [`super::providers`]: rules that one regular expression and a
//! check of the matched value decide. Each rule names literal keywords (case matters), one of
//! which every match contains; one pass of a literal matcher over the text picks the rules
//! worth running, so a hundred rules cost about one pass.

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::bytes::Regex;

use super::providers::{Check, TOKEN_RULES};
use super::rules::{re, redact, Hit};
use super::value::token_body_is_random;

/// Keywords per alternation: the regex engine's fastest literal matcher (Teddy) takes up to 64.
const KEYWORDS_PER_MATCHER: usize = 48;

/// Keywords shorter than this are looked for one by one.
const SHORT: usize = 4;

struct Compiled {
    /// Every keyword of [`SHORT`] bytes or more, in alternations of [`KEYWORDS_PER_MATCHER`].
    keywords: Vec<Regex>,
    /// The shorter keywords, each with the rules it selects.
    short: Vec<(memchr::memmem::Finder<'static>, Vec<usize>)>,
    /// Keyword → the rules it selects.
    rules_of: HashMap<Vec<u8>, Vec<usize>>,
    patterns: Vec<Regex>,
}

static COMPILED: LazyLock<Compiled> = LazyLock::new(|| {
    let mut rules_of: HashMap<Vec<u8>, Vec<usize>> = HashMap::new();
    let mut short: HashMap<&'static str, Vec<usize>> = HashMap::new();
    for (i, r) in TOKEN_RULES.iter().enumerate() {
        for k in r.keywords.iter().filter(|k| k.len() < SHORT) {
            short.entry(k).or_default().push(i);
        }
        for k in r.keywords.iter().filter(|k| k.len() >= SHORT) {
            rules_of.entry(k.as_bytes().to_vec()).or_default().push(i);
        }
    }
    // A keyword's match also selects the rules of every keyword inside it ("secret_" holds
    // "secret"): the matcher reports one keyword per place.
    let direct = rules_of.clone();
    for (word, rules) in rules_of.iter_mut() {
        for (other, more) in &direct {
            if other != word && word.windows(other.len()).any(|w| w == other.as_slice()) {
                rules.extend(more);
            }
        }
    }
    let mut words: Vec<&Vec<u8>> = rules_of.keys().collect();
    // Longer first, so that the longest keyword at a place is the one reported.
    words.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
    let alternation: Vec<String> = words
        .iter()
        .map(|w| regex::escape(std::str::from_utf8(w).expect("ASCII keyword")))
        .collect();
    Compiled {
        keywords: alternation
            .chunks(KEYWORDS_PER_MATCHER)
            .map(|words| re(&format!("(?-u){}", words.join("|"))))
            .collect(),
        short: short
            .into_iter()
            .map(|(k, rules)| (memchr::memmem::Finder::new(k.as_bytes()), rules))
            .collect(),
        rules_of,
        patterns: TOKEN_RULES
            .iter()
            .map(|r| re(&format!("(?m-u){}", r.pattern)))
            .collect(),
    }
});

/// Hits of every token rule whose keyword appears in `text`.
pub(super) fn token_hits(text: &[u8], out: &mut Vec<Hit>) {
    let c = &*COMPILED;
    let mut selected: Vec<bool> = TOKEN_RULES.iter().map(|r| r.keywords.is_empty()).collect();
    let mut left = selected.iter().filter(|s| !**s).count();
    for (finder, rules) in &c.short {
        if rules.iter().any(|&i| !selected[i]) && finder.find(text).is_some() {
            for &i in rules {
                left -= usize::from(!selected[i]);
                selected[i] = true;
            }
        }
    }
    // Every place a keyword starts, overlapping ones too ("secret_" holds "secret").
    for keywords in &c.keywords {
        let mut at = 0;
        while left > 0 {
            let Some(m) = keywords.find_at(text, at) else {
                break;
            };
            for &i in c.rules_of.get(m.as_bytes()).into_iter().flatten() {
                if !selected[i] {
                    selected[i] = true;
                    left -= 1;
                }
            }
            at = m.start() + 1;
        }
    }
    for (i, r) in TOKEN_RULES.iter().enumerate().filter(|(i, _)| selected[*i]) {
        for cap in c.patterns[i].captures_iter(text) {
            let m = cap.get(1).expect("every token pattern has a group 1");
            let mut end = m.end();
            while end > m.start() && text[end - 1] == b'.' {
                end -= 1;
            }
            let token = &text[m.start()..end];
            let ok = match r.check {
                Check::Random(n) => token_body_is_random(&token[n.min(token.len())..]),
                Check::Custom(f) => f(token),
            };
            if ok {
                out.push(Hit {
                    rule: r.rule,
                    start: m.start(),
                    end,
                    redacted: redact(token),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_compiles_and_is_listed() {
        assert_eq!(COMPILED.patterns.len(), TOKEN_RULES.len());
        for r in TOKEN_RULES {
            assert!(
                super::super::rules::rule_named(r.rule).is_some(),
                "{}",
                r.rule
            );
        }
    }
}
