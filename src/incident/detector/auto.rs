//! The detector's writes: a lifecycle step applied to the incident tables (open, grow,
//! monitoring, resolve, relapse) with its timeline text and outbox rows, inside the caller's
//! transaction.

use super::*;

impl Detector {
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn apply_step(
        &self,
        conn: &mut SqliteConnection,
        component: &ComponentId,
        name: &str,
        open: Option<&Incident>,
        signal: &Signal,
        staged: &Staged,
        step: Step,
        now: Timestamp,
    ) -> Result<(), Error> {
        let troubled = signal.troubled();
        match (step, open) {
            (Step::Open { impact }, _) => {
                let infos = self.infos(&troubled, &signal.failing, staged);
                let others_fine = self
                    .meta
                    .iter()
                    .any(|(k, m)| &m.component == component && !troubled.contains(k));
                let regions = regions_of(&troubled, &[]);
                let announced: Vec<Pair> = troubled.iter().cloned().collect();
                let title = text::title(name, !signal.failing.is_empty());
                let started_at = signal.started_at.unwrap_or(now).min(now);
                let id = incidents::insert_incident(
                    conn,
                    &NewIncident {
                        title: &title,
                        impact: impact.max(Impact::Minor),
                        status: IncidentStatus::Investigating,
                        components: std::slice::from_ref(component),
                        regions: &regions,
                        started_at,
                        opened_by: Actor::Detector,
                        announced: &announced,
                        public: self.lasted_long_enough(started_at, now),
                    },
                    now,
                )
                .await?;
                let words = text::opening(name, &infos, others_fine);
                self.say(conn, id, IncidentStatus::Investigating, &words, now)
                    .await?;
                tracing::warn!(incident = %id, component = %component, "opened an incident");
            }
            (Step::Grow { status, added }, Some(inc)) => {
                let infos = self.infos(&added, &signal.failing, staged);
                let by = if status == inc.status {
                    inc.status_set_by
                } else {
                    Actor::Detector
                };
                let words = text::growth(name, &infos);
                incidents::insert_update(
                    conn,
                    inc.id,
                    status,
                    incidents::Words {
                        body: &words.body,
                        evidence: &words.evidence,
                    },
                    DETECTOR_AUTHOR,
                    by,
                    now,
                )
                .await?;
                self.queue_mail(conn, inc.id, now).await?;
                self.note_announced(conn, inc, &added, now).await?;
            }
            (Step::Recovered, Some(inc)) => {
                let named: BTreeSet<Pair> = inc.announced.iter().cloned().collect();
                let infos = self.infos(&named, &BTreeSet::new(), staged);
                let words = text::recovered(name, &infos);
                self.say(conn, inc.id, IncidentStatus::Monitoring, &words, now)
                    .await?;
            }
            (Step::Resolve { duration }, Some(inc)) => {
                let quiet = self.rules.resolve_after_quiet;
                let words = text::resolved(name, quiet, duration);
                self.say(conn, inc.id, IncidentStatus::Resolved, &words, now)
                    .await?;
                tracing::info!(incident = %inc.id, "resolved an incident");
            }
            (Step::Relapse, Some(inc)) => {
                let infos = self.infos(&troubled, &signal.failing, staged);
                let words = text::relapse(name, &infos);
                self.say(conn, inc.id, IncidentStatus::Investigating, &words, now)
                    .await?;
                incidents::count_relapse(conn, inc.id).await?;
                self.note_announced(conn, inc, &troubled, now).await?;
            }
            (_, None) => {}
        }
        Ok(())
    }

    /// Posts an update as the detector and queues its mail.
    async fn say(
        &self,
        conn: &mut SqliteConnection,
        id: crate::domain::IncidentId,
        status: IncidentStatus,
        words: &text::Words,
        now: Timestamp,
    ) -> Result<(), Error> {
        incidents::insert_update(
            conn,
            id,
            status,
            incidents::Words {
                body: &words.body,
                evidence: &words.evidence,
            },
            DETECTOR_AUTHOR,
            Actor::Detector,
            now,
        )
        .await?;
        self.queue_mail(conn, id, now).await
    }

    /// Whether a failure that began at `started_at` has lasted `detect.publish_after` at `now`.
    fn lasted_long_enough(&self, started_at: Timestamp, now: Timestamp) -> bool {
        now.millis_since(started_at) >= self.publish_after.as_millis() as i64
    }

    /// Whether the internal incident `inc`, still failing, is due to be made public.
    pub(super) fn publish_due(&self, inc: &Incident, now: Timestamp) -> bool {
        !inc.is_public() && inc.status.is_open() && self.lasted_long_enough(inc.started_at, now)
    }

    /// Makes `id` public and mails its timeline so far to subscribers (on-call has it).
    pub(super) async fn publish(
        &self,
        conn: &mut SqliteConnection,
        id: crate::domain::IncidentId,
        now: Timestamp,
    ) -> Result<(), Error> {
        if incidents::publish(conn, id, now).await? {
            tracing::info!(incident = %id, "published an incident: its failure lasted detect.publish_after");
            if let Some(ctx) = &self.mail {
                crate::notify::messages::queue_published(conn, ctx, id, now).await?;
            }
        }
        Ok(())
    }

    async fn queue_mail(
        &self,
        conn: &mut SqliteConnection,
        id: crate::domain::IncidentId,
        now: Timestamp,
    ) -> Result<(), Error> {
        match &self.mail {
            Some(ctx) => crate::notify::messages::queue_latest(conn, ctx, id, now).await,
            None => Ok(()),
        }
    }

    async fn note_announced(
        &self,
        conn: &mut SqliteConnection,
        inc: &Incident,
        added: &BTreeSet<Pair>,
        now: Timestamp,
    ) -> Result<(), Error> {
        let mut announced: BTreeSet<Pair> = inc.announced.iter().cloned().collect();
        announced.extend(added.iter().cloned());
        let announced: Vec<Pair> = announced.into_iter().collect();
        let regions = regions_of(added, &inc.regions);
        incidents::set_detector_notes(
            conn,
            inc.id,
            &announced,
            Some(now),
            inc.last_failure_at,
            &regions,
        )
        .await
    }

    /// Reader's names and evidence for `pairs`, ordered by label then region.
    fn infos(
        &self,
        pairs: &BTreeSet<Pair>,
        failing: &BTreeSet<Pair>,
        staged: &Staged,
    ) -> Vec<PairInfo> {
        let mut out: Vec<PairInfo> = pairs
            .iter()
            .filter_map(|k| {
                let m = self.meta.get(k)?;
                let evidence = if failing.contains(k) {
                    self.state(staged, k)
                        .and_then(|s| s.last_failure.as_ref())
                        .map(|f| Evidence {
                            status: f.status,
                            outcome: f.outcome,
                            message: f.message.clone(),
                            excerpt: f.excerpt.clone(),
                        })
                } else {
                    None
                };
                Some(PairInfo {
                    label: m.label.clone(),
                    sdk: m.sdk.clone(),
                    version: m.sdk_version.clone(),
                    operation: m.operation.clone(),
                    shape: m.shape.clone(),
                    region: m.region_name.clone(),
                    region_rank: m.region_rank,
                    evidence,
                })
            })
            .collect();
        out.sort_by(|a, b| (&a.label, &a.region).cmp(&(&b.label, &b.region)));
        out
    }
}
