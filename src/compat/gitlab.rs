//! GitLab protected environments with deployment approvals.
//!
//! [`ProtectedEnvironment`] is the object GitLab's protected-environments API
//! returns (`GET /projects/:id/protected_environments/:name`), plus the
//! project setting `allow_pipeline_trigger_approve_deployment` as a key of
//! the same object. [`ProtectedEnvironment::to_policy`] follows what GitLab
//! does with it and validates the result.
//!
//! ```
//! use approval_gate::compat::gitlab::ProtectedEnvironment;
//! use approval_gate::policy::{Approver, ExecutorRule};
//! let environment: ProtectedEnvironment = serde_json::from_str(r#"{
//!     "name": "production",
//!     "deploy_access_levels": [{"access_level": 40}],
//!     "approval_rules": [
//!         {"group_id": 134, "access_level_description": "qa-group", "required_approvals": 1},
//!         {"access_level": 40, "required_approvals": 2}
//!     ]
//! }"#)?;
//! let policy = environment.to_policy()?;
//! assert_eq!(policy.rule_name(0), "qa-group");
//! assert_eq!(policy.rules()[0].approvers, [Approver::Group("134".into())]);
//! assert_eq!(policy.rule_name(1), "Maintainers");
//! assert_eq!(policy.rules()[1].required, 2);
//! assert_eq!(policy.spec().executor, ExecutorRule::MayNotApprove);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Fields read
//!
//! | field | becomes |
//! | --- | --- |
//! | `name` | the policy's `name` |
//! | `approval_rules[]` | one rule each (rules mode) |
//! | `approval_rules[].user_id` / `group_id` / `access_level` | the rule's one approver: [`Approver::User`], [`Approver::Group`] (ids as their decimal text) or [`Approver::MinAccessLevel`] |
//! | `approval_rules[].required_approvals` | the rule's `required`, 1 to 5, 1 when absent or null |
//! | `approval_rules[].access_level_description` | the rule's name |
//! | `approval_rules[]._destroy` | `true` leaves the rule out, as GitLab removes it |
//! | `required_approval_count` | unified mode: the one rule's `required`, 0 to 5 |
//! | `deploy_access_levels[]` | unified mode: the one rule's approvers (`user_id`, `group_id`, `access_level`) |
//! | `approval_rules[].group_inheritance_type`, `deploy_access_levels[].group_inheritance_type` | nothing once checked: 0 or 1, absent or null |
//! | `allow_pipeline_trigger_approve_deployment` | `executor`: `true` is [`ExecutorRule::MayAct`], else [`ExecutorRule::MayNotApprove`] |
//!
//! Every GitLab policy has these fixed settings: [`Counting::OncePerRule`],
//! [`RuleNaming::Contains`] (`represented_as` matches a substring of a rule
//! name, as GitLab matches it against the rule's human name),
//! [`AdminRule::MatchEveryRule`], [`Revote::WhileWaiting`], no timeout, no
//! auto-approval, no inputs ([`Outputs::Inputs`]), a comment limit of 255
//! bytes, and origin [`Origin::Gitlab`].
//!
//! # Fields ignored
//!
//! `id` of rules and deploy access levels; the value of
//! `group_inheritance_type` (whether a group rule matches inherited members:
//! the host's directory decides group membership, inherited groups included,
//! so once checked the key changes nothing); `access_level_description` of
//! deploy access levels; `deploy_access_levels` altogether in rules mode (they say who may
//! run the job, not who approves); and every other key.
//!
//! # Refusals
//!
//! Every refusal is a [`PolicyError`] whose field is the API object's own
//! path (`approval_rules[1].required_approvals`), also for the checks
//! [`Policy::new`] makes after the import. A value that must be concrete
//! and holds a runtime expression (Terraform `${...}`, or `<+...>` /
//! `#{...}`) is refused with [`PolicyError::Expression`]. A
//! `required_approvals` key inside a deploy access level or at the top
//! level (Terraform examples put one there) is refused naming where it
//! belongs, `approval_rules[]`.
//!
//! # Choices where GitLab is silent
//!
//! - **Modes.** With at least one approval rule (after `_destroy`), each
//!   rule is a policy rule and `required_approval_count` is not used: GitLab
//!   documents that rules take precedence. Without rules and with
//!   `required_approval_count` above 0 (unified approvals), the policy has
//!   one rule named after the environment (`deployers` when `name` is empty
//!   or absent), whose approvers are every deploy access level, requiring
//!   that count. With neither, the environment requires no approvals and the
//!   import is refused saying so: a gate that approves itself is not a gate.
//!   `required_approval_count` is checked (0 to 5, a whole number, no
//!   expression) in both modes, as GitLab's model validates it.
//! - **Numbers.** Ids, access levels and counts are accepted as JSON numbers
//!   or strings of ASCII digits (surrounding spaces ignored), as GitLab's API
//!   coerces parameters; ids become their decimal text without leading
//!   zeros (`"042"` is `42`), and 0 is refused as an id. Role names
//!   (`"developer"`, as the Terraform provider writes them) are refused: the
//!   API takes numbers.
//! - **Access levels** allowed are GitLab's code's: 20 (Reporter), 30
//!   (Developer), 40 (Maintainer), 60 (Admin); a level matches principals
//!   at or above it.
//! - **One principal per approval rule.** A rule that sets more than one of
//!   `user_id`, `group_id` and `access_level` is refused naming them: GitLab
//!   would take the user, else the group, and silently ignore the rest,
//!   which is rarely what the writer meant. A deploy access level, by
//!   contrast, follows GitLab's precedence (user, else group, else access
//!   level), because GitLab's API returns a stored `access_level` (40 by
//!   default) beside the `group_id` or `user_id` of every deploy access
//!   level.
//! - **Rule names.** `access_level_description` when present and not
//!   empty; otherwise GitLab's human names for roles, `Reporters` (20),
//!   `Developers + Maintainers` (30), `Maintainers` (40), `Administrators`
//!   (60), and `user <id>` / `group <id>` for user and group rules (GitLab
//!   shows the user's or group's name there, which only the API response's
//!   description carries). A name already taken by an earlier rule gets
//!   ` (2)`, ` (3)`, ... appended, the first free one, since a policy's rule
//!   names are unique.
//! - **Comment limit.** GitLab limits an approval's comment to 255
//!   characters; the engine limits comments in bytes, so the policy says 255
//!   bytes, which refuses some comments GitLab accepts (255 characters of
//!   non-ASCII text).
//! - **`allow_pipeline_trigger_approve_deployment`** and `_destroy` accept
//!   `true`/`false` and the strings `"true"`/`"false"` in any letter case,
//!   surrounding spaces ignored; absent or null is `false`.
//! - **`name`** is kept verbatim, a Terraform reference included: it only
//!   names the policy (and, in unified mode, its rule), and nothing is
//!   computed from it.
//! - **`group_inheritance_type`**, of every approval rule (but those with
//!   `_destroy: true`) and every deploy access level, in both modes, is 0
//!   (direct members) or 1 (inherited members too), as a number or a digit
//!   string like the other numbers; absent or null is accepted. Anything
//!   else (`2`, `-1`, `1.5`, `"x"`, `true`) is refused at its path
//!   (`approval_rules[0].group_inheritance_type`), as GitLab EE's model
//!   validation of `ProtectedEnvironments::ApprovalRule` and
//!   `ProtectedEnvironments::DeployAccessLevel` refuses it
//!   (`validates :group_inheritance_type, inclusion: { in:
//!   GROUP_INHERITANCE_TYPE.values }`, `DIRECT: 0`, `ALL: 1`).
//! - **A rule no listed principal set can meet**: GitLab accepts a user rule
//!   with `required_approvals: 2`, or unified approvals whose deploy access
//!   levels are fewer users than the count, and such a deployment waits
//!   forever; [`Policy::new`] refuses a rule that names fewer individual
//!   principals than it requires, so the import is refused at
//!   `approval_rules[i].required_approvals` or `required_approval_count`.

use super::lenient::{Stray, flag, indexed, list_or_null, misplaced, renamed, whole};
use crate::policy::{
    AdminRule, Approver, Counting, ExecutorRule, Origin, Outputs, Policy, PolicyError, PolicySpec, Revote, Rule,
    RuleNaming,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

pub use super::lenient::Scalar;

/// GitLab's limit on an approval comment.
const MAX_COMMENT: usize = 255;

/// The access levels GitLab allows in approval rules and deploy access
/// levels, with the human names of their rules.
const ACCESS_LEVELS: [(u16, &str); 4] =
    [(20, "Reporters"), (30, "Developers + Maintainers"), (40, "Maintainers"), (60, "Administrators")];

/// A protected environment as GitLab's API returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ProtectedEnvironment {
    /// The environment's name (or wildcard, `*-release`).
    #[serde(default, deserialize_with = "super::lenient::text", skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Who may deploy; in unified mode, also who may approve.
    #[serde(default, deserialize_with = "list_or_null")]
    pub deploy_access_levels: Vec<DeployAccessLevel>,
    /// Unified approvals: how many deployers must approve (deprecated by
    /// GitLab in favour of rules).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_approval_count: Option<Scalar>,
    /// Approval rules; they take precedence over `required_approval_count`.
    #[serde(default, deserialize_with = "list_or_null")]
    pub approval_rules: Vec<ApprovalRule>,
    /// The project setting "Allow pipeline triggerer to approve deployment".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_pipeline_trigger_approve_deployment: Option<Scalar>,
    #[serde(rename = "required_approvals", default, skip_serializing)]
    stray_required_approvals: Option<Stray>,
}

/// One of `deploy_access_levels`: a user, a group or a minimum role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DeployAccessLevel {
    /// The record's id; informational.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Scalar>,
    /// A minimum role: 20, 30, 40 or 60.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_level: Option<Scalar>,
    /// GitLab's human name for the entry; informational.
    #[serde(default, deserialize_with = "super::lenient::text", skip_serializing_if = "Option::is_none")]
    pub access_level_description: Option<String>,
    /// A user id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<Scalar>,
    /// A group id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<Scalar>,
    /// 0 direct members only, 1 inherited members too; checked to be one
    /// of them, then ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_inheritance_type: Option<Scalar>,
    #[serde(rename = "required_approvals", default, skip_serializing)]
    stray_required_approvals: Option<Stray>,
}

/// One of `approval_rules`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ApprovalRule {
    /// The rule's id; informational.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Scalar>,
    /// A user id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<Scalar>,
    /// A group id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<Scalar>,
    /// A minimum role: 20, 30, 40 or 60.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_level: Option<Scalar>,
    /// GitLab's human name for the rule (user, group or role name).
    #[serde(default, deserialize_with = "super::lenient::text", skip_serializing_if = "Option::is_none")]
    pub access_level_description: Option<String>,
    /// How many approvals the rule needs, 1 to 5; 1 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_approvals: Option<Scalar>,
    /// 0 direct members only, 1 inherited members too; checked to be one
    /// of them, then ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_inheritance_type: Option<Scalar>,
    /// In an update request, `true` removes the rule.
    #[serde(rename = "_destroy", default, skip_serializing_if = "Option::is_none")]
    pub destroy: Option<Scalar>,
}

/// Which principal a rule or deploy access level names.
enum Principal {
    User(String),
    Group(String),
    Level(u16),
}

impl Principal {
    fn key(&self) -> &'static str {
        match self {
            Self::User(_) => "user_id",
            Self::Group(_) => "group_id",
            Self::Level(_) => "access_level",
        }
    }

    fn approver(&self) -> Approver {
        match self {
            Self::User(id) => Approver::User(id.clone()),
            Self::Group(id) => Approver::Group(id.clone()),
            Self::Level(level) => Approver::MinAccessLevel(*level),
        }
    }

    fn default_name(&self) -> String {
        match self {
            Self::User(id) => format!("user {id}"),
            Self::Group(id) => format!("group {id}"),
            Self::Level(level) => ACCESS_LEVELS
                .iter()
                .find(|(known, _)| known == level)
                .map_or_else(|| format!("access level {level}"), |(_, name)| (*name).to_owned()),
        }
    }
}

fn id(field: &str, value: &Scalar) -> Result<String, PolicyError> {
    let expected = "must be a numeric GitLab id";
    let number = whole(field, value, expected)?;
    if number == 0 {
        return Err(PolicyError::invalid(field, value, expected));
    }
    Ok(number.to_string())
}

/// GitLab's `GROUP_INHERITANCE_TYPE` values, 0 (direct members) and 1
/// (all inherited members), as its model validates them; absent or null
/// passes.
fn group_inheritance(at: &str, value: Option<&Scalar>) -> Result<(), PolicyError> {
    let Some(value) = value else { return Ok(()) };
    let field = format!("{at}.group_inheritance_type");
    let expected = "must be 0 (direct members only) or 1 (inherited members too)";
    match whole(&field, value, expected)? {
        0 | 1 => Ok(()),
        _ => Err(PolicyError::invalid(field, value, expected)),
    }
}

fn access_level(field: &str, value: &Scalar) -> Result<u16, PolicyError> {
    let expected = "must be 20 (Reporter), 30 (Developer), 40 (Maintainer) or 60 (Admin), as a number";
    let number = whole(field, value, expected)?;
    ACCESS_LEVELS
        .iter()
        .map(|(level, _)| *level)
        .find(|level| u64::from(*level) == number)
        .ok_or_else(|| PolicyError::invalid(field, value, expected))
}

/// Per policy rule or approver, the index of the entry it came from and the
/// key of its principal.
type Sources = Vec<(usize, &'static str)>;

/// How the policy's rules map back to the object, for errors that
/// [`Policy::new`] raises.
enum Origins {
    /// Rules mode: per policy rule, the index in `approval_rules` and the
    /// key of its principal.
    Rules(Sources),
    /// Unified mode: per approver, the index in `deploy_access_levels` and
    /// its key.
    Unified(Sources),
}

impl Origins {
    fn source(&self, native: &str) -> Option<String> {
        if native == "name" {
            return Some("name".to_owned());
        }
        match self {
            Self::Rules(rules) => {
                if native == "rules" {
                    return Some("approval_rules".to_owned());
                }
                let (index, rest) = indexed(native, "rules[")?;
                let (source, key) = rules.get(index)?;
                let at = format!("approval_rules[{source}]");
                Some(match rest {
                    ".required" => format!("{at}.required_approvals"),
                    ".name" => format!("{at}.access_level_description"),
                    "" | ".approvers" => at,
                    _ => format!("{at}.{key}"),
                })
            }
            Self::Unified(levels) => match native {
                "rules" | "rules[0].approvers" => Some("deploy_access_levels".to_owned()),
                "rules[0].required" => Some("required_approval_count".to_owned()),
                "rules[0].name" => Some("name".to_owned()),
                _ => {
                    let (index, _) = indexed(native, "rules[0].approvers[")?;
                    let (source, key) = levels.get(index)?;
                    Some(format!("deploy_access_levels[{source}].{key}"))
                }
            },
        }
    }
}

impl ProtectedEnvironment {
    /// Imports the environment's approval settings as a [`Policy`].
    ///
    /// # Errors
    ///
    /// A [`PolicyError`] naming the object's field
    /// (`approval_rules[1].required_approvals`) and the value, as the module
    /// documentation lists; also when the environment requires no
    /// approvals.
    pub fn to_policy(&self) -> Result<Policy, PolicyError> {
        let (spec, origins) = self.policy_spec()?;
        Policy::new(spec).map_err(|error| renamed(error, |field| origins.source(field)))
    }

    fn policy_spec(&self) -> Result<(PolicySpec, Origins), PolicyError> {
        if let Some(value) = &self.stray_required_approvals {
            return Err(misplaced(
                "required_approvals",
                value,
                "belongs in an approval rule (`approval_rules[].required_approvals`); \
                 the environment's own count is `required_approval_count`",
            ));
        }
        for (index, level) in self.deploy_access_levels.iter().enumerate() {
            if let Some(value) = &level.stray_required_approvals {
                return Err(misplaced(
                    &format!("deploy_access_levels[{index}].required_approvals"),
                    value,
                    "belongs in an approval rule (`approval_rules[].required_approvals`): \
                     deploy access levels say who may deploy, not how many must approve",
                ));
            }
            group_inheritance(&format!("deploy_access_levels[{index}]"), level.group_inheritance_type.as_ref())?;
        }
        let count = match &self.required_approval_count {
            None => None,
            Some(value) => {
                let field = "required_approval_count";
                let count = whole(field, value, "must be a whole number from 0 to 5")?;
                if count > 5 {
                    return Err(PolicyError::invalid(field, value, "must be a whole number from 0 to 5"));
                }
                Some((count, value))
            }
        };
        let trigger_may_approve =
            flag("allow_pipeline_trigger_approve_deployment", self.allow_pipeline_trigger_approve_deployment.as_ref())?;
        let name = self.name.clone().unwrap_or_default();

        let mut active = Vec::new();
        for (index, rule) in self.approval_rules.iter().enumerate() {
            let destroyed = flag(&format!("approval_rules[{index}]._destroy"), rule.destroy.as_ref())?;
            if !destroyed {
                group_inheritance(&format!("approval_rules[{index}]"), rule.group_inheritance_type.as_ref())?;
                active.push((index, rule));
            }
        }
        // Refuse an oversized list before naming its rules: naming is
        // quadratic in the number of rules that share a name.
        if active.len() > crate::policy::MAX_RULES {
            return Err(PolicyError::TooMany {
                field: "approval_rules".into(),
                count: active.len(),
                limit: crate::policy::MAX_RULES,
            });
        }
        let (rules, origins) = if !active.is_empty() {
            let mut rules = Vec::new();
            let mut sources = Vec::new();
            let mut taken = BTreeSet::new();
            for (index, rule) in active {
                let (rule, key) = rule.to_rule(index, &mut taken)?;
                rules.push(rule);
                sources.push((index, key));
            }
            (rules, Origins::Rules(sources))
        } else {
            match count {
                Some((required @ 1..=5, _)) => {
                    let (rule, sources) = self.unified_rule(&name, required)?;
                    (vec![rule], Origins::Unified(sources))
                }
                Some((_, value)) => {
                    let label = if name.is_empty() { "the environment".to_owned() } else { format!("`{name}`") };
                    return Err(PolicyError::invalid(
                        "required_approval_count",
                        value,
                        format!("{label} requires no approvals: there are no `approval_rules` and the count is 0"),
                    ));
                }
                None => {
                    let label = if name.is_empty() { "the environment".to_owned() } else { format!("`{name}`") };
                    return Err(PolicyError::missing(
                        "approval_rules",
                        format!(
                            "{label} requires no approvals: it has neither `approval_rules` \
                             nor a `required_approval_count` above 0"
                        ),
                    ));
                }
            }
        };

        let mut spec = PolicySpec::new(rules);
        spec.name = name;
        spec.counting = Counting::OncePerRule;
        spec.represented_as = RuleNaming::Contains;
        spec.executor = if trigger_may_approve { ExecutorRule::MayAct } else { ExecutorRule::MayNotApprove };
        spec.admins = AdminRule::MatchEveryRule;
        spec.revote = Revote::WhileWaiting;
        spec.outputs = Outputs::Inputs;
        spec.timeout = None;
        spec.auto_approval = None;
        spec.max_comment_bytes = MAX_COMMENT;
        spec.origin = Origin::Gitlab;
        Ok((spec, origins))
    }

    fn unified_rule(&self, name: &str, required: u64) -> Result<(Rule, Sources), PolicyError> {
        if self.deploy_access_levels.is_empty() {
            return Err(PolicyError::missing(
                "deploy_access_levels",
                "unified approvals (`required_approval_count`) come from those who may deploy, and none are listed",
            ));
        }
        let mut approvers = Vec::new();
        let mut sources = Vec::new();
        for (index, level) in self.deploy_access_levels.iter().enumerate() {
            let principal = level.principal(index)?;
            sources.push((index, principal.key()));
            approvers.push(principal.approver());
        }
        let required = u32::try_from(required).unwrap_or(u32::MAX);
        let rule_name = if name.trim().is_empty() { "deployers" } else { name };
        Ok((Rule::new(required, approvers).named(rule_name), sources))
    }
}

impl DeployAccessLevel {
    /// GitLab's precedence: the user, else the group, else the access level.
    fn principal(&self, index: usize) -> Result<Principal, PolicyError> {
        let at = format!("deploy_access_levels[{index}]");
        if let Some(user) = &self.user_id {
            return id(&format!("{at}.user_id"), user).map(Principal::User);
        }
        if let Some(group) = &self.group_id {
            return id(&format!("{at}.group_id"), group).map(Principal::Group);
        }
        if let Some(level) = &self.access_level {
            return access_level(&format!("{at}.access_level"), level).map(Principal::Level);
        }
        Err(PolicyError::missing(at, "a deploy access level names a `user_id`, a `group_id` or an `access_level`"))
    }
}

impl ApprovalRule {
    fn to_rule(&self, index: usize, taken: &mut BTreeSet<String>) -> Result<(Rule, &'static str), PolicyError> {
        let at = format!("approval_rules[{index}]");
        let given: Vec<&str> = [
            ("user_id", self.user_id.is_some()),
            ("group_id", self.group_id.is_some()),
            ("access_level", self.access_level.is_some()),
        ]
        .into_iter()
        .filter_map(|(key, present)| present.then_some(key))
        .collect();
        let principal = match (&self.user_id, &self.group_id, &self.access_level) {
            (Some(user), None, None) => Principal::User(id(&format!("{at}.user_id"), user)?),
            (None, Some(group), None) => Principal::Group(id(&format!("{at}.group_id"), group)?),
            (None, None, Some(level)) => Principal::Level(access_level(&format!("{at}.access_level"), level)?),
            (None, None, None) => {
                return Err(PolicyError::missing(
                    at,
                    "an approval rule names a `user_id`, a `group_id` or an `access_level`",
                ));
            }
            _ => {
                return Err(PolicyError::invalid(
                    at,
                    given.join(" and "),
                    "an approval rule names exactly one of `user_id`, `group_id` and `access_level` \
                     (GitLab would use the first of them and ignore the rest)",
                ));
            }
        };
        let required = match &self.required_approvals {
            None => 1,
            Some(value) => {
                let field = format!("{at}.required_approvals");
                let expected = "must be a whole number from 1 to 5";
                let count = whole(&field, value, expected)?;
                if !(1..=5).contains(&count) {
                    return Err(PolicyError::invalid(field, value, expected));
                }
                u32::try_from(count).unwrap_or(u32::MAX)
            }
        };
        let described = self.access_level_description.as_deref().filter(|text| !text.trim().is_empty());
        let base = described.map_or_else(|| principal.default_name(), str::to_owned);
        let name = unique(&base, taken);
        Ok((Rule::new(required, [principal.approver()]).named(name), principal.key()))
    }
}

/// `base`, or `base (2)`, `base (3)`, ..., whichever is not yet taken.
fn unique(base: &str, taken: &mut BTreeSet<String>) -> String {
    let mut name = base.to_owned();
    let mut suffix = 2_u32;
    while taken.contains(&name) {
        name = format!("{base} ({suffix})");
        suffix = suffix.saturating_add(1);
    }
    taken.insert(name.clone());
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disambiguates_rule_names() {
        let mut taken = BTreeSet::new();
        assert_eq!(unique("qa", &mut taken), "qa");
        assert_eq!(unique("qa", &mut taken), "qa (2)");
        assert_eq!(unique("qa (2)", &mut taken), "qa (2) (2)");
        assert_eq!(unique("qa", &mut taken), "qa (3)");
    }

    #[test]
    fn names_roles_as_gitlab_does() {
        assert_eq!(Principal::Level(30).default_name(), "Developers + Maintainers");
        assert_eq!(Principal::Level(40).default_name(), "Maintainers");
        assert_eq!(Principal::Level(60).default_name(), "Administrators");
        assert_eq!(Principal::Level(20).default_name(), "Reporters");
        assert_eq!(Principal::User("42".into()).default_name(), "user 42");
        assert_eq!(Principal::Group("7".into()).default_name(), "group 7");
    }
}
