//! The deterministic engine: a gate's state, the commands it takes, the
//! events it emits, the effects the host carries out, and explanations.
//!
//! A gate is the fold of its events. [`Gate::execute`] decides a command,
//! applies its events and returns them with their effects; a refused
//! command returns a typed error and changes nothing. [`Gate::decide`] (pure)
//! and [`Gate::evolve`] (total) are the two halves, for hosts that store
//! events themselves. Nothing here reads a clock, draws a random number or
//! performs I/O.
//!
//! ```
//! use approval_gate::{Approve, Command, Gate, GateId, Principal, PrincipalId, Run, Status};
//! use approval_gate::policy::{Approver, Policy, PolicySpec, Rule};
//! use chrono::{TimeZone, Utc};
//!
//! let policy = Policy::new(PolicySpec::new([Rule::new(1, [Approver::Group("sre".into())])]))?;
//! let now = Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap();
//! let run = Run::new(PrincipalId::new("carol")?);
//! let opened = Gate::open(GateId::new("run-1")?, policy, run, now)?;
//! let mut gate = Gate::replay(&opened)?;
//!
//! let ann = Principal::user("ann")?.with_groups(["sre"]);
//! for event in gate.decide(&Command::Approve(Approve::by(ann)), now)? {
//!     gate.evolve(&event);
//! }
//! assert_eq!(gate.status(), Status::Approved);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod command;
mod deadline;
mod decide;
mod effect;
mod error;
mod event;
mod evolve;
mod execute;
mod explain;
mod outputs;
mod run;
mod state;
mod tally;

pub use command::{Approve, Command};
pub use effect::{Effect, Hold, HoldChange, Notification, NotificationKind, Supersession};
pub use error::GateError;
pub use event::Event;
pub use execute::Outcome;
pub use explain::{Eligibility, Explanation, RuleProgress};
pub use run::{Action, Reason, Run, Status, Vote};
pub use state::{Approval, Ending, Gate, ReplayError};
