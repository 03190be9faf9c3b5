//! `mimic serve`: load the config, build the daemon, run it until SIGINT/SIGTERM; the exit
//! code says how it ended (0 clean, 1 a stage failed, 2 bad config or database in use).

use super::*;

/// Resolves on SIGINT or SIGTERM. The handlers are installed when this is called, not when
/// the future is first polled, so a signal that arrives right after start-up is not lost.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let term = signal(SignalKind::terminate());
        let int = signal(SignalKind::interrupt());
        async move {
            match (term, int) {
                (Ok(mut term), Ok(mut int)) => {
                    tokio::select! { _ = int.recv() => {}, _ = term.recv() => {} }
                }
                _ => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

pub(super) async fn serve(path: PathBuf) -> ExitCode {
    let config = match Config::load(&path) {
        Ok(c) => c,
        Err(e) => return bad_input(e),
    };
    let app = match crate::app::App::build(config).await {
        Ok(a) => a,
        // Another daemon on the same database is a usage error, like a bad config: exit 2.
        Err(e)
            if e.downcast_ref::<crate::store::LockError>()
                .is_some_and(|l| matches!(l, crate::store::LockError::Held { .. })) =>
        {
            return bad_input(format!("{e:#}"));
        }
        Err(e) => {
            eprintln!("mimic: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    let signal = shutdown_signal();
    tracing::info!(addr = %app.addr(), jobs = app.job_count(), "serving");
    tokio::spawn(async move {
        signal.await;
        tracing::info!("shutdown requested");
        trigger.cancel();
    });
    match app.run(cancel).await {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mimic: {e:#}");
            ExitCode::FAILURE
        }
    }
}
