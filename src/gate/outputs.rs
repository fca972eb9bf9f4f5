//! What a gate hands on to later steps.

use super::{Gate, Status};
use crate::policy::Outputs;
use crate::principal::Principal;
use std::collections::BTreeMap;

impl Gate {
    /// The values handed on to later steps.
    ///
    /// With [`Outputs::Inputs`]: the inputs of the last approval; before
    /// any approval (and for a gate auto-approved with none), the declared
    /// defaults. With [`Outputs::OctopusManual`], once the gate has ended by
    /// a decision: `Manual.Notes`, `Manual.Approved` and
    /// `Manual.ResponsibleUser.Id` / `.EmailAddress`.
    pub fn outputs(&self) -> BTreeMap<String, String> {
        match self.state.policy.spec().outputs {
            Outputs::OctopusManual => self.octopus_outputs(),
            _ => match self.state.approvals.last() {
                Some(last) => last.inputs.clone(),
                None => crate::policy::input_defaults(&self.state.policy.spec().inputs),
            },
        }
    }

    fn octopus_outputs(&self) -> BTreeMap<String, String> {
        let mut outputs = BTreeMap::new();
        let Some(ending) = &self.state.ending else { return outputs };
        let approved = match ending.status {
            Status::Approved => "True",
            Status::Rejected => "False",
            _ => return outputs,
        };
        let last = self.state.approvals.last();
        let decider = last.map(|a| &a.by).filter(|_| ending.status == Status::Approved);
        let user = decider.map(|p| p.id()).or(ending.by.as_ref());
        let notes = ending.comment.clone().or_else(|| decider.and_then(|_| last?.comment.clone()));
        outputs.insert("Manual.Notes".into(), notes.unwrap_or_default());
        outputs.insert("Manual.Approved".into(), approved.into());
        if let Some(user) = user {
            outputs.insert("Manual.ResponsibleUser.Id".into(), user.to_string());
            outputs.insert("Manual.ResponsibleUser.Username".into(), user.to_string());
        }
        if let Some(email) = decider.and_then(Principal::email) {
            outputs.insert("Manual.ResponsibleUser.EmailAddress".into(), email.into());
        }
        outputs
    }
}
