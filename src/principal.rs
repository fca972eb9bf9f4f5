//! Principals: who acts on a gate, as the host's directory describes them at
//! the moment they act.

use crate::id::PrincipalId;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;

/// What kind of principal acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum PrincipalKind {
    /// A person.
    User,
    /// A non-human account acting through an API key (Harness
    /// `serviceAccounts`). It matches only approver entries that name it.
    ServiceAccount,
}

/// A user or service account with the facts the policy may look at: groups
/// (or Octopus teams), GitLab access level, e-mail and administrator flag.
///
/// The engine records this snapshot in the events it emits, so a replay and
/// an audit see what the directory said when the principal acted.
///
/// ```
/// use approval_gate::Principal;
/// let bob = Principal::user("bob")?
///     .with_groups(["docs", "sre"])
///     .with_access_level(40)
///     .with_email("Bob@Example.com");
/// assert!(bob.in_group("sre"));
/// assert_eq!(bob.access_level(), Some(40));
/// # Ok::<(), approval_gate::IdError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Principal(
    // Shared whole: the engine records the principal with every decision,
    // in the event and again in the gate, so a copy is one reference count,
    // not one per id, group set and e-mail.
    Arc<Facts>,
);

/// What a principal is, as it serializes: the plain fields, however they
/// are held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Facts {
    id: PrincipalId,
    #[serde(default = "user_kind")]
    kind: PrincipalKind,
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    groups: BTreeSet<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    access_level: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    admin: bool,
}

fn user_kind() -> PrincipalKind {
    PrincipalKind::User
}

impl Serialize for Principal {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Principal {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Facts::deserialize(deserializer).map(|facts| Principal(Arc::new(facts)))
    }
}

impl fmt::Debug for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Facts { id, kind, groups, access_level, email, admin } = self.0.as_ref();
        f.debug_struct("Principal")
            .field("id", id)
            .field("kind", kind)
            .field("groups", groups)
            .field("access_level", access_level)
            .field("email", email)
            .field("admin", admin)
            .finish()
    }
}

impl Principal {
    /// A user with no groups, access level, e-mail or administrator rights.
    ///
    /// # Errors
    ///
    /// [`crate::IdError`] when `id` is empty, too long or holds a control
    /// character.
    pub fn user(id: impl Into<String>) -> Result<Self, crate::IdError> {
        Ok(Self::new(PrincipalId::new(id)?, PrincipalKind::User))
    }

    /// A service account.
    ///
    /// # Errors
    ///
    /// [`crate::IdError`] as for [`Principal::user`].
    pub fn service_account(id: impl Into<String>) -> Result<Self, crate::IdError> {
        Ok(Self::new(PrincipalId::new(id)?, PrincipalKind::ServiceAccount))
    }

    /// A principal of the given kind with no other facts.
    pub fn new(id: PrincipalId, kind: PrincipalKind) -> Self {
        Self(Arc::new(Facts { id, kind, groups: BTreeSet::new(), access_level: None, email: None, admin: false }))
    }

    /// Adds groups (Harness user groups, GitLab groups, Octopus teams).
    #[must_use]
    pub fn with_groups<I, G>(mut self, groups: I) -> Self
    where
        I: IntoIterator<Item = G>,
        G: Into<String>,
    {
        self.facts().groups.extend(groups.into_iter().map(Into::into));
        self
    }

    /// Sets the GitLab access level (30 Developer, 40 Maintainer, 50 Owner).
    #[must_use]
    pub fn with_access_level(mut self, level: u16) -> Self {
        self.facts().access_level = Some(level);
        self
    }

    /// Sets the e-mail address.
    #[must_use]
    pub fn with_email(mut self, email: impl Into<String>) -> Self {
        self.facts().email = Some(email.into());
        self
    }

    /// Marks the principal as an instance administrator (GitLab admins match
    /// every approval rule where the policy says so).
    #[must_use]
    pub fn as_admin(mut self) -> Self {
        self.facts().admin = true;
        self
    }

    /// The facts, to change while building: copied only if shared.
    fn facts(&mut self) -> &mut Facts {
        Arc::make_mut(&mut self.0)
    }

    /// The principal's id.
    pub fn id(&self) -> &PrincipalId {
        &self.0.id
    }

    /// User or service account.
    pub fn kind(&self) -> PrincipalKind {
        self.0.kind
    }

    /// The groups the principal belongs to.
    pub fn groups(&self) -> &BTreeSet<String> {
        &self.0.groups
    }

    /// Whether the principal belongs to `group`.
    pub fn in_group(&self, group: &str) -> bool {
        self.0.groups.contains(group)
    }

    /// The GitLab access level, if the directory gave one.
    pub fn access_level(&self) -> Option<u16> {
        self.0.access_level
    }

    /// The e-mail address, if the directory gave one.
    pub fn email(&self) -> Option<&str> {
        self.0.email.as_deref()
    }

    /// Whether the principal is an instance administrator.
    pub fn is_admin(&self) -> bool {
        self.0.admin
    }
}
