//! The demo's built-in config: the Edge API in three regions, a probe for every builtin shape in
//! every region (identify without traits, with traits and with a numeric identifier; flags;
//! environment documents), probes every `2 s / speed` (at least 1 s); and a rollout gate over
//! every identify probe against a canary of the Edge API that is in no region.

use crate::probe::Catalog;
use std::fmt::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

/// The regions the demo's Edge API runs in.
pub const REGIONS: [(&str, &str); 3] = [
    ("eu-west-2", "Europe (London)"),
    ("us-east-2", "US East (Ohio)"),
    ("ap-southeast-1", "Asia Pacific (Singapore)"),
];

/// The emulated region the canary release runs in: no target, only the gate's probes.
pub const CANARY: &str = "canary";

/// The demo's rollout gate.
pub const GATE: &str = "edge-api-canary";

/// The probe interval at `speed`: 2 s at speed 1, never under 1 s (369 jobs at 1 s is already
/// 369 runs a second).
pub fn interval(speed: f64) -> Duration {
    Duration::from_secs_f64((2.0 / speed).max(1.0))
}

/// The config text.
pub fn config_text(
    listen: SocketAddr,
    data: &Path,
    emulator: SocketAddr,
    admin_token: &str,
    gate_token: &str,
    smtp_url: &str,
    speed: f64,
) -> String {
    let every = format!("{}ms", interval(speed).as_millis());
    let mut t = format!(
        "[server]\nlisten = \"{listen}\"\npublic_url = \"http://{listen}\"\ndatabase = \"sqlite://{}\"\nadmin_token = \"{admin_token}\"\ngate_token = \"{gate_token}\"\n\n\
         [page]\ntitle = \"Flagsmith (replay of 2024-01-18)\"\n\n\
         [[component]]\nid = \"edge-api\"\nname = \"Edge API\"\ndescription = \"Flags and identities for every SDK\"\n\n",
        data.join("mimic.db").display()
    );
    for (id, name) in REGIONS {
        let _ = write!(t, "[[region]]\nid = \"{id}\"\nname = \"{name}\"\n\n");
    }
    for (id, _) in REGIONS {
        let _ = write!(
            t,
            "[[target]]\ncomponent = \"edge-api\"\nregion = \"{id}\"\nbase_url = \"http://{emulator}/{id}/api/v1/\"\nvars = {{ environment_key = \"test-env-key\" }}\n\n"
        );
    }
    for shape in Catalog::builtin().iter() {
        let variants: Vec<(&str, String)> = match shape.operation.as_str() {
            "identify" => vec![
                ("", "identifier = \"demo-user\"".into()),
                (
                    "-traits",
                    "identifier = \"demo-user\", traits = { plan = \"pro\" }".into(),
                ),
                ("-numeric", "identifier = 42".into()),
            ],
            "environment_document" | "bulk_identify" => {
                vec![("", "environment_key = \"ser.test-server-key\"".into())]
            }
            _ => vec![("", String::new())],
        };
        for (suffix, vars) in variants {
            let id = format!("{}{suffix}", shape.id.trim_start_matches("flagsmith."))
                .replace(['@', '.'], "-");
            let _ = write!(
                t,
                "[[probe]]\nid = \"{id}\"\ncomponent = \"edge-api\"\nshape = \"{}\"\nevery = \"{every}\"\ntimeout = \"5s\"\nvars = {{ {vars} }}\n\n",
                shape.id
            );
        }
    }
    // Identify with and without traits, every SDK and release, against the canary.
    let _ = write!(
        t,
        "[[gate]]\nid = \"{GATE}\"\nbase_url = \"http://{emulator}/{CANARY}/api/v1/\"\nvars = {{ environment_key = \"test-env-key\" }}\nprobes = [\"*-identify\", \"*-identify-traits\"]\nevery = \"{every}\"\nmin_samples = 3\n\n"
    );
    let _ = write!(
        t,
        "[detect]\nfailures_to_open = 3\nsuccesses_to_recover = 3\nresolve_after_quiet = \"10m\"\n\n\
         [alerts]\non_call = [\"oncall@example.com\"]\n\n\
         [smtp]\nurl = \"{smtp_url}\"\nfrom = \"Flagsmith Status <status@example.com>\"\n"
    );
    t
}
