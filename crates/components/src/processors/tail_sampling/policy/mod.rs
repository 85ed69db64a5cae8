//! STUB for the lead's branch: replaced by the policy engine at merge. Implements the
//! interface with `always_sample` and `status_code` only.

use std::sync::Arc;

use serde::Deserialize;
use switchyard_core::component::FieldError;
use switchyard_pdata::proto::trace::v1::{status::StatusCode, ResourceSpans};

use crate::ottl::OttlErrorReporter;

/// The spans of one trace as buffered.
pub struct TraceData {
    pub batches: Vec<ResourceSpans>,
    pub span_count: u64,
    pub bytes: u64,
    pub first_arrival: tokio::time::Instant,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Unspecified,
    Pending,
    Sampled,
    NotSampled,
    Dropped,
    Error,
    InvertSampled,
    InvertNotSampled,
}

#[derive(Clone, Debug, Deserialize)]
pub struct PolicyCfg {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub status_code: Option<StatusCodeCfg>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct StatusCodeCfg {
    pub status_codes: Vec<String>,
}

pub fn validate(_cfgs: &[PolicyCfg]) -> Vec<FieldError> {
    Vec::new()
}

pub struct Policies {
    cfgs: Vec<PolicyCfg>,
    first: bool,
}

impl Policies {
    pub fn build(
        cfgs: &[PolicyCfg],
        sample_on_first_match: bool,
        _share: f64,
        _errors: Arc<OttlErrorReporter>,
    ) -> Result<Policies, String> {
        Ok(Policies { cfgs: cfgs.to_vec(), first: sample_on_first_match })
    }
    pub fn names(&self) -> Vec<String> {
        self.cfgs.iter().map(|c| c.name.clone()).collect()
    }
    pub fn evaluate(
        &mut self,
        _trace_id: &[u8; 16],
        trace: &TraceData,
        _now: tokio::time::Instant,
        per_policy: &mut Vec<Decision>,
    ) -> Decision {
        per_policy.clear();
        per_policy.resize(self.cfgs.len(), Decision::Unspecified);
        let mut sampled = false;
        for (i, c) in self.cfgs.iter().enumerate() {
            let d = match c.kind.as_str() {
                "always_sample" => Decision::Sampled,
                "status_code" => {
                    let err = trace
                        .batches
                        .iter()
                        .flat_map(|r| &r.scope_spans)
                        .flat_map(|s| &s.spans)
                        .any(|s| s.status.as_ref().is_some_and(|st| st.code == StatusCode::Error as i32));
                    if err {
                        Decision::Sampled
                    } else {
                        Decision::NotSampled
                    }
                }
                _ => Decision::NotSampled,
            };
            per_policy[i] = d;
            if d == Decision::Sampled {
                sampled = true;
                if self.first {
                    break;
                }
            }
        }
        if sampled {
            Decision::Sampled
        } else {
            Decision::NotSampled
        }
    }
}
