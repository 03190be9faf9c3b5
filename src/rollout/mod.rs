//! Rollout gates (SPEC §13): the verdict a progressive-delivery controller or a pipeline asks
//! for before a release reaches everyone, judged from the runs a `[[gate]]` stores against its
//! candidate; the HTTP API that answers Argo Rollouts and Flagger; and `mimic gate wait`.

pub mod api;
pub mod verdict;
pub mod wait;
