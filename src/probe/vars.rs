//! Probe variables: how a target's and a probe's `vars` combine before rendering.

use super::Vars;

/// Target vars overlaid with probe vars (shape defaults are applied by the renderer).
pub fn merge_vars(target: &Vars, probe: &Vars) -> Vars {
    let mut out = target.clone();
    for (k, v) in probe {
        out.insert(k.clone(), v.clone());
    }
    out
}
