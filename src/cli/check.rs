//! `mimic check`: every selected probe once (a deploy gate), or two deployments compared.

use super::*;

pub(super) async fn check(args: CheckArgs) -> ExitCode {
    let client = match crate::probe::runner::http_client() {
        Ok(c) => c,
        Err(e) => return bad_input(format!("HTTP client: {e}")),
    };
    if let (Some(baseline), Some(candidate)) = (&args.baseline, &args.candidate) {
        let vars = match parse_vars(args.vars.as_deref()) {
            Ok(v) => v,
            Err(e) => return bad_input(e),
        };
        let opts = CompareOptions {
            baseline: baseline.clone(),
            candidate: candidate.clone(),
            shapes: args.shapes.clone(),
            vars,
            timeout: args.timeout,
        };
        return match gate::compare(&client, Catalog::builtin(), &opts).await {
            Err(e) => bad_input(e),
            Ok((compared, diffs)) => {
                if args.format == Format::Json {
                    let out = serde_json::json!({"compared": compared, "differences": diffs});
                    println!("{out:#}");
                } else if diffs.is_empty() {
                    println!("{compared} shapes compared: baseline and candidate answer alike");
                } else {
                    let rows: Vec<Vec<String>> = diffs
                        .iter()
                        .map(|d| {
                            vec![
                                d.shape.clone(),
                                d.label.clone(),
                                d.baseline.clone(),
                                d.candidate.clone(),
                                d.what.clone(),
                            ]
                        })
                        .collect();
                    print!(
                        "{}",
                        gate::table(
                            &["SHAPE", "REQUEST", "BASELINE", "CANDIDATE", "DIFFERENCE"],
                            &rows
                        )
                    );
                    println!("{} of {compared} shapes answer differently", diffs.len());
                }
                if diffs.is_empty() {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(1)
                }
            }
        };
    }
    let Some(path) = args.config else {
        return bad_input("mimic check needs --config FILE, or --baseline URL --candidate URL");
    };
    let config = match Config::load(&path) {
        Ok(c) => c,
        Err(e) => return bad_input(e),
    };
    for r in &args.region {
        if !config.regions.iter().any(|x| x.id.as_str() == r) {
            return bad_input(format!(
                "--region {r:?}: no such region in {}",
                path.display()
            ));
        }
    }
    for p in &args.probe {
        if !config.probes.iter().any(|x| x.id.as_str() == p) {
            return bad_input(format!(
                "--probe {p:?}: no such probe in {}",
                path.display()
            ));
        }
    }
    let jobs = match build_jobs(&config) {
        Ok(j) => j,
        Err(e) => return bad_input(e),
    };
    let selected: Vec<_> = jobs
        .into_iter()
        .filter(|j| args.region.is_empty() || args.region.iter().any(|r| r == j.region.as_str()))
        .filter(|j| args.probe.is_empty() || args.probe.iter().any(|p| p == j.probe.as_str()))
        .collect();
    if selected.is_empty() {
        return bad_input("no probe runs in the selected regions");
    }
    let rows = gate::run_jobs_once(&client, &selected).await;
    match args.format {
        Format::Json => match serde_json::to_string_pretty(&rows) {
            Ok(s) => println!("{s}"),
            Err(e) => return bad_input(e),
        },
        Format::Table => {
            print!("{}", gate::check_table(&rows));
            let failed = rows.iter().filter(|r| !r.outcome.passed()).count();
            let retried = rows
                .iter()
                .filter(|r| r.outcome.passed() && r.attempts > 1)
                .count();
            // Said only when it happened, so a clean run's summary stays one short line.
            let note = if retried > 0 {
                format!(" ({retried} passed only on a confirmation retry)")
            } else {
                String::new()
            };
            println!(
                "{} runs, {} passed, {failed} failed{note}",
                rows.len(),
                rows.len() - failed
            );
        }
    }
    if rows.iter().all(|r| r.outcome.passed()) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
