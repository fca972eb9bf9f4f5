#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_auto_cfg))]

pub mod compat;
pub mod gate;
mod id;
mod kind;
pub mod memory;
pub mod outbox;
pub mod policy;
pub mod ports;
mod principal;
pub mod scenario;
pub mod service;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub mod sql;
#[cfg(feature = "testkit")]
pub mod testkit;

pub use gate::GateError;
pub use gate::{Action, Approve, Command, Effect, Event, Gate, Notification, Outcome, Reason, Run, Status, Vote};
pub use id::{GateId, IdError, MAX_ID_BYTES, PrincipalId};
pub use kind::ErrorKind;
pub use policy::{Policy, PolicyError};
pub use principal::{Principal, PrincipalKind};
