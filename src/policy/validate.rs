//! The checks that make a [`PolicySpec`] a [`Policy`](super::Policy).

use super::{
    Approver, AutoApproval, Constraint, Disallowed, Input, MAX_APPROVERS, MAX_DISALLOWED, MAX_INPUTS, MAX_REQUIRED,
    MAX_RULES, MAX_TEXT_BYTES, PolicyError, PolicySpec, Rule,
};
use std::collections::BTreeSet;

/// The largest comment limit a policy may set: 16 MiB.
const MAX_COMMENT_LIMIT: usize = 16 * 1024 * 1024;

pub(super) fn check(spec: &PolicySpec) -> Result<(), PolicyError> {
    text("name", &spec.name)?;
    text("message", &spec.message)?;
    rules(&spec.rules)?;
    disallowed(&spec.disallowed)?;
    inputs(&spec.inputs)?;
    if let Some(auto) = &spec.auto_approval {
        auto_approval(auto)?;
    }
    for (field, list) in
        [("environments.only", &spec.environments.only), ("environments.skip", &spec.environments.skip)]
    {
        names(field, list)?;
    }
    if !(1..=MAX_COMMENT_LIMIT).contains(&spec.max_comment_bytes) {
        return Err(PolicyError::invalid(
            "max_comment_bytes",
            spec.max_comment_bytes,
            format!("must be from 1 to {MAX_COMMENT_LIMIT}"),
        ));
    }
    Ok(())
}

fn text(field: &str, value: &str) -> Result<(), PolicyError> {
    if value.len() > MAX_TEXT_BYTES {
        return Err(PolicyError::invalid(field, value, format!("must be at most {MAX_TEXT_BYTES} bytes")));
    }
    Ok(())
}

fn limit<T>(field: &str, list: &[T], max: usize) -> Result<(), PolicyError> {
    if list.len() > max {
        return Err(PolicyError::too_many(field, list.len(), max));
    }
    Ok(())
}

fn rules(rules: &[Rule]) -> Result<(), PolicyError> {
    if rules.is_empty() {
        return Err(PolicyError::missing("rules", "a policy needs at least one rule"));
    }
    limit("rules", rules, MAX_RULES)?;
    let mut seen = BTreeSet::new();
    for (index, rule) in rules.iter().enumerate() {
        let field = format!("rules[{index}]");
        if let Some(name) = &rule.name {
            if name.trim().is_empty() {
                return Err(PolicyError::invalid(format!("{field}.name"), name, "must not be blank"));
            }
            text(&format!("{field}.name"), name)?;
            if !seen.insert(name.as_str()) {
                return Err(PolicyError::invalid(format!("{field}.name"), name, "another rule has this name"));
            }
        }
        rule_body(&field, rule)?;
    }
    Ok(())
}

fn rule_body(field: &str, rule: &Rule) -> Result<(), PolicyError> {
    if !(1..=MAX_REQUIRED).contains(&rule.required) {
        return Err(PolicyError::invalid(
            format!("{field}.required"),
            rule.required,
            format!("must be from 1 to {MAX_REQUIRED}"),
        ));
    }
    if rule.approvers.is_empty() {
        return Err(PolicyError::missing(format!("{field}.approvers"), "a rule needs at least one approver"));
    }
    limit(&format!("{field}.approvers"), &rule.approvers, MAX_APPROVERS)?;
    for (index, approver) in rule.approvers.iter().enumerate() {
        approver_id(&format!("{field}.approvers[{index}]"), approver)?;
    }
    // A rule that names only individual principals can be met only if it
    // names enough of them; say so now rather than leave gates waiting.
    let named: Option<BTreeSet<&str>> = rule
        .approvers
        .iter()
        .map(|approver| match approver {
            Approver::User(id) | Approver::ServiceAccount(id) => Some(id.as_str()),
            _ => None,
        })
        .collect();
    if let Some(named) = named {
        if (named.len() as u64) < u64::from(rule.required) {
            return Err(PolicyError::invalid(
                format!("{field}.required"),
                rule.required,
                format!("the rule names only {} principal(s), so it could never be met", named.len()),
            ));
        }
    }
    Ok(())
}

fn approver_id(field: &str, approver: &Approver) -> Result<(), PolicyError> {
    match approver {
        Approver::User(id) | Approver::Group(id) | Approver::ServiceAccount(id) => {
            if id.trim().is_empty() {
                return Err(PolicyError::invalid(field, id, "must name a principal or group"));
            }
            text(field, id)
        }
        Approver::MinAccessLevel(_) | Approver::Anyone => Ok(()),
    }
}

fn disallowed(list: &[Disallowed]) -> Result<(), PolicyError> {
    limit("disallowed", list, MAX_DISALLOWED)?;
    for (index, entry) in list.iter().enumerate() {
        let (Disallowed::Principal(value) | Disallowed::Email(value)) = entry;
        if value.trim().is_empty() {
            return Err(PolicyError::invalid(format!("disallowed[{index}]"), value, "must not be blank"));
        }
        text(&format!("disallowed[{index}]"), value)?;
    }
    Ok(())
}

fn inputs(inputs: &[Input]) -> Result<(), PolicyError> {
    limit("inputs", inputs, MAX_INPUTS)?;
    let mut seen = BTreeSet::new();
    for (index, input) in inputs.iter().enumerate() {
        let field = format!("inputs[{index}]");
        if input.name.trim().is_empty() {
            return Err(PolicyError::invalid(format!("{field}.name"), &input.name, "must not be blank"));
        }
        text(&format!("{field}.name"), &input.name)?;
        text(&format!("{field}.default"), &input.default)?;
        if !seen.insert(input.name.as_str()) {
            return Err(PolicyError::invalid(format!("{field}.name"), &input.name, "another input has this name"));
        }
        if let Some(
            Constraint::AllowedValues(values) | Constraint::SelectOneFrom(values) | Constraint::MultiSelect(values),
        ) = &input.constraint
        {
            if values.is_empty() {
                return Err(PolicyError::missing(format!("{field}.constraint"), "a list of values must not be empty"));
            }
            limit(&format!("{field}.constraint"), values, MAX_INPUTS)?;
        }
        if let Some(Constraint::MultiSelect(values)) = &input.constraint {
            // A multi-select value is split on `,` and trimmed: a listed
            // value with a comma or outer white space could never match.
            if let Some((at, value)) =
                values.iter().enumerate().find(|(_, value)| value.contains(',') || value.trim() != value.as_str())
            {
                return Err(PolicyError::invalid(
                    format!("{field}.constraint.multi_select[{at}]"),
                    value,
                    "a multi-select value cannot hold `,` or start or end with white space: parts are split on `,` and trimmed",
                ));
            }
        }
    }
    Ok(())
}

fn auto_approval(auto: &AutoApproval) -> Result<(), PolicyError> {
    if let Some(comment) = &auto.comment {
        text("auto_approval.comment", comment)?;
    }
    Ok(())
}

fn names(field: &str, list: &[String]) -> Result<(), PolicyError> {
    limit(field, list, MAX_DISALLOWED)?;
    for (index, name) in list.iter().enumerate() {
        if name.trim().is_empty() {
            return Err(PolicyError::invalid(format!("{field}[{index}]"), name, "must not be blank"));
        }
    }
    Ok(())
}
