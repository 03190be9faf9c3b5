//! mimic's integration tests: one binary, one user story per file, through public surfaces
//! (the CLI binary, HTTP over loopback, a real SQLite file).

mod support;

mod a_hanging_region_never_delays_other_probes;
mod broken_targets_end_as_classified_runs;
mod config_errors_name_the_key_and_the_line;
mod every_builtin_shape_passes_against_a_healthy_edge_api;
mod every_outcome_class_round_trips_through_sqlite;
mod shapes;
mod the_daemon_stores_every_run_and_flushes_on_sigterm;
mod the_deploy_gate_fails_the_pipeline_when_an_sdk_breaks;
mod the_numeric_identifier_regression_fails_exactly_the_sdks_that_send_numbers;
mod the_traits_key_regression_fails_exactly_the_sdks_that_omit_it;
mod what_a_probe_sends_is_what_shapes_show_prints;
