//! The queue runner: one tokio task that delivers what the queue holds.
//!
//! A pass takes the entries that are due, delivers their local recipients into the store,
//! groups the remote ones by domain and relays each group over one SMTP connection
//! (`relay.rs`). Per recipient: `2yz` after DATA is delivered, `5yz` failed,
//! `4yz` or no connection stays pending (RFC 5321 §4.5.4.1 retry). An entry with nothing
//! pending is finished: a DSN goes to the sender for every failed recipient that asked for
//! one (never for a null reverse-path, RFC 5321 §6.1), then the entry is removed. An entry
//! still pending after its give-up time fails with `4.4.7` (RFC 3463 "delivery time
//! expired"). Otherwise it waits for the next slot of the retry schedule.
//!
//! The task wakes when mail is queued, when the earliest entry is due (read from the
//! injected clock), or when asked ([`crate::MtaHandle::kick`], [`crate::MtaHandle::flush`]).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::{Semaphore, mpsc, oneshot};
use tokio::task::JoinSet;
use wirecheck_smtp::client::{OutgoingMessage, RcptStatus};
use wirecheck_smtp::codec::ReversePath;
use wirecheck_smtp::server::Recipient;

use crate::Ctx;
use crate::dsn::Action;
use crate::policy::{deliver_local, queue_report};
use crate::queue::{QueueEntry, QueueError, QueuedRecipient, RcptState};
use crate::relay::{Job, Outcome, relay};

/// Messages sent over one connection at most.
const MESSAGES_PER_CONNECTION: usize = 20;
/// The runner looks at the clock at least this often.
const MAX_SLEEP: Duration = Duration::from_secs(60);
/// ... and at most this often on its own (an entry that cannot be finished must not make
/// it spin).
const MIN_SLEEP: Duration = Duration::from_secs(1);
/// Rounds per pass: later rounds deliver the DSNs earlier rounds queued.
const ROUNDS: usize = 4;

/// What one queue pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PassReport {
    /// Recipient deliveries attempted.
    pub attempted: usize,
    /// Recipients delivered (locally, or accepted by the next hop).
    pub delivered: usize,
    /// Recipients left pending for a later attempt.
    pub deferred: usize,
    /// Recipients failed for good (5yz, no route, expired).
    pub failed: usize,
    /// DSNs queued.
    pub reports: usize,
}

/// A request to the runner task.
pub(crate) struct Request {
    /// Try every entry now, whatever its schedule (like `postqueue -f`).
    pub flush: bool,
    /// Told when the pass is over.
    pub reply: Option<oneshot::Sender<PassReport>>,
}

/// The runner task: a pass at start-up (a restarted MTA resumes its deliveries), then one
/// for each request, wake-up or due time, until the request channel closes.
pub(crate) async fn run(ctx: Arc<Ctx>, mut requests: mpsc::UnboundedReceiver<Request>) {
    pass(&ctx, false).await;
    loop {
        let sleep = ctx
            .queue
            .next_attempt()
            .map_or(MAX_SLEEP, |t| {
                t.duration_since(ctx.clock.now()).unwrap_or(Duration::ZERO)
            })
            .clamp(MIN_SLEEP, MAX_SLEEP);
        tokio::select! {
            req = requests.recv() => match req {
                None => break,
                Some(Request { flush, reply }) => {
                    let report = pass(&ctx, flush).await;
                    if let Some(tx) = reply {
                        let _ = tx.send(report);
                    }
                }
            },
            _ = ctx.wake.notified() => { pass(&ctx, false).await; }
            _ = tokio::time::sleep(sleep) => { pass(&ctx, false).await; }
        }
    }
}

/// One pass: entries due now (all of them with `flush`), then whatever that queued.
pub(crate) async fn pass(ctx: &Arc<Ctx>, flush: bool) -> PassReport {
    let mut report = PassReport::default();
    for round in 0..ROUNDS {
        let now = ctx.clock.now();
        let due = ctx
            .queue
            .due(if flush && round == 0 { None } else { Some(now) });
        if due.is_empty() {
            break;
        }
        attempt(ctx, due, now, &mut report).await;
    }
    report
}

async fn attempt(
    ctx: &Arc<Ctx>,
    entries: Vec<QueueEntry>,
    now: SystemTime,
    report: &mut PassReport,
) {
    let loaded = blocking(ctx, move |ctx| {
        entries
            .into_iter()
            .filter_map(|e| match ctx.queue.message(&e.id) {
                Ok(m) => Some((e, Arc::new(m))),
                Err(err) => {
                    // Not tried and not dropped: looked at again after the long delay.
                    tracing::error!("queue {}: message unreadable: {err}", e.id);
                    let mut later = e;
                    later.next_attempt = now + ctx.config.retry.then_every;
                    if let Err(err) = ctx.queue.update(&later) {
                        tracing::error!("queue {}: {err}", later.id);
                    }
                    None
                }
            })
            .collect::<Vec<_>>()
    })
    .await
    .unwrap_or_default();

    let mut outcomes: Vec<(usize, usize, Outcome)> = Vec::new();
    let mut by_domain: BTreeMap<String, Vec<Job>> = BTreeMap::new();
    let mut locals = Vec::new();
    for (ei, (e, msg)) in loaded.iter().enumerate() {
        let mut per_domain: BTreeMap<String, Vec<(usize, Recipient)>> = BTreeMap::new();
        for (ri, r) in e
            .recipients
            .iter()
            .enumerate()
            .filter(|(_, r)| r.state == RcptState::Pending)
        {
            if let Some(user) = &r.local_user {
                locals.push((ei, ri, user.clone(), e.from.clone(), msg.clone()));
                continue;
            }
            match (r.domain(), r.to_recipient()) {
                (Some(d), Some(rcpt)) => per_domain.entry(d).or_default().push((ri, rcpt)),
                _ => outcomes.push((
                    ei,
                    ri,
                    Outcome::local(
                        true,
                        "5.1.3",
                        format!("bad recipient address {}", r.address),
                    ),
                )),
            }
        }
        for (domain, list) in per_domain {
            let message = OutgoingMessage {
                from: e.reverse_path().unwrap_or(ReversePath::Null),
                recipients: list.iter().map(|(_, r)| r.clone()).collect(),
                ret: e.ret_param(),
                envid: e.envid.clone(),
                content: msg.to_vec(),
            };
            let rcpts = list.into_iter().map(|(ri, _)| ri).collect();
            by_domain.entry(domain).or_default().push(Job {
                entry: ei,
                rcpts,
                message,
            });
        }
    }

    if !locals.is_empty() {
        let done = blocking(ctx, move |ctx| {
            locals
                .into_iter()
                .map(|(ei, ri, user, from, msg)| {
                    let o = match deliver_local(ctx, &user, &from, &msg) {
                        Ok(_) => Outcome::local(
                            false,
                            "2.0.0",
                            format!("delivered to maildir of {user}"),
                        ),
                        Err(wirecheck_store::StoreError::NoSuchUser(u)) => {
                            Outcome::local(true, "5.1.1", format!("no such user {u}"))
                        }
                        Err(e) => {
                            Outcome::local(false, "4.3.0", format!("local delivery failed: {e}"))
                        }
                    };
                    let o = if o.code == "2.0.0" {
                        Outcome {
                            status: RcptStatus::Delivered,
                            ..o
                        }
                    } else {
                        o
                    };
                    (ei, ri, o)
                })
                .collect::<Vec<_>>()
        })
        .await;
        outcomes.extend(done.unwrap_or_default());
    }

    let slots = Arc::new(Semaphore::new(ctx.config.max_parallel_relays.max(1)));
    let mut relays = JoinSet::new();
    for (domain, jobs) in by_domain {
        let mut jobs = jobs.into_iter().peekable();
        while jobs.peek().is_some() {
            let chunk: Vec<Job> = jobs.by_ref().take(MESSAGES_PER_CONNECTION).collect();
            let (ctx, domain, slots) = (ctx.clone(), domain.clone(), slots.clone());
            relays.spawn(async move {
                let _permit = slots.acquire_owned().await;
                relay(&ctx, &domain, chunk).await
            });
        }
    }
    while let Some(done) = relays.join_next().await {
        match done {
            Ok(v) => outcomes.extend(v),
            // Its recipients stay pending and are tried again later.
            Err(e) => tracing::error!("relay task failed: {e}"),
        }
    }

    let mut entries: Vec<Attempted> = loaded
        .into_iter()
        .map(|(entry, message)| Attempted {
            entry,
            message,
            tried: false,
            successes: Vec::new(),
        })
        .collect();
    for (ei, ri, o) in outcomes {
        let Some(a) = entries.get_mut(ei) else {
            continue;
        };
        let Some(r) = a.entry.recipients.get_mut(ri) else {
            continue;
        };
        a.tried = true;
        report.attempted += 1;
        let verdict = match o.status {
            RcptStatus::Delivered => {
                report.delivered += 1;
                r.state = RcptState::Delivered;
                // RFC 3461 §5.2.2 / §6.2: success notices for final delivery here, or
                // for a relay to a server that cannot carry NOTIFY on.
                if r.wants_success_report() {
                    match (&o.remote_mta, o.dsn_offered) {
                        (None, _) => a.successes.push((ri, Action::Delivered)),
                        (Some(_), false) => a.successes.push((ri, Action::Relayed)),
                        (Some(_), true) => {}
                    }
                }
                "delivered"
            }
            RcptStatus::Permanent => {
                report.failed += 1;
                r.state = RcptState::Failed;
                "failed"
            }
            RcptStatus::Temporary => {
                report.deferred += 1;
                "deferred"
            }
        };
        let relay = o.remote_mta.as_deref().unwrap_or("local");
        tracing::info!(
            "{}: to={} relay={relay} status={} {verdict} ({})",
            a.entry.id,
            r.address,
            o.code,
            o.reply
        );
        r.status = Some(o.code);
        r.last_reply = Some(o.reply);
        r.remote_mta = o.remote_mta;
    }
    let done = blocking(ctx, move |ctx| {
        entries
            .into_iter()
            .map(|a| {
                let id = a.entry.id.clone();
                finish(ctx, a, now).unwrap_or_else(|err| {
                    tracing::error!("queue {id}: {err}");
                    Finished::default()
                })
            })
            .collect::<Vec<_>>()
    })
    .await;
    for f in done.unwrap_or_default() {
        report.failed += f.expired;
        report.deferred -= f.expired.min(report.deferred);
        report.reports += f.reports;
    }
}

/// One entry through an attempt.
struct Attempted {
    entry: QueueEntry,
    message: Arc<Vec<u8>>,
    /// Some recipient was tried.
    tried: bool,
    /// Recipients delivered now whose NOTIFY asks for a success DSN, and its action.
    successes: Vec<(usize, Action)>,
}

#[derive(Debug, Default)]
struct Finished {
    expired: usize,
    reports: usize,
}

/// Record an attempt: success notices, then either the next attempt (with a "delayed"
/// notice once the message has waited `delay-warning`) or the end (failure notice,
/// removal). Notices are queued before the entry changes: a crash in between sends one
/// twice, never not at all.
fn finish(ctx: &Ctx, a: Attempted, now: SystemTime) -> Result<Finished, QueueError> {
    let Attempted {
        mut entry,
        message,
        tried,
        successes,
    } = a;
    let mut out = Finished::default();
    if tried {
        entry.attempts = entry.attempts.saturating_add(1);
        entry.last_attempt = Some(now);
    }
    for action in [Action::Delivered, Action::Relayed] {
        let rs: Vec<&QueuedRecipient> = successes
            .iter()
            .filter(|(_, a)| *a == action)
            .filter_map(|(ri, _)| entry.recipients.get(*ri))
            .collect();
        out.reports += usize::from(queue_report(ctx, &entry, &rs, action, &message, now)?);
    }
    if entry.has_pending() && now >= entry.arrived + ctx.config.retry.expire {
        for r in entry
            .recipients
            .iter_mut()
            .filter(|r| r.state == RcptState::Pending)
        {
            tracing::info!(
                "{}: to={} expired after {} attempts",
                entry.id,
                r.address,
                entry.attempts
            );
            r.state = RcptState::Failed;
            // RFC 3463 §3.5: X.4.7 "Delivery time expired".
            r.status = Some("4.4.7".into());
            out.expired += 1;
        }
    }
    if entry.has_pending() {
        if now >= entry.arrived + ctx.config.retry.delay_warning {
            let late: Vec<usize> = (0..entry.recipients.len())
                .filter(|&i| {
                    entry.recipients.get(i).is_some_and(|r| {
                        r.state == RcptState::Pending && r.wants_delay_report() && !r.delay_reported
                    })
                })
                .collect();
            let rs: Vec<&QueuedRecipient> = late
                .iter()
                .filter_map(|&i| entry.recipients.get(i))
                .collect();
            out.reports += usize::from(queue_report(
                ctx,
                &entry,
                &rs,
                Action::Delayed,
                &message,
                now,
            )?);
            for i in late {
                if let Some(r) = entry.recipients.get_mut(i) {
                    r.delay_reported = true;
                }
            }
        }
        entry.next_attempt = now + ctx.config.retry.delay_after(entry.attempts.max(1));
        ctx.queue.update(&entry)?;
        return Ok(out);
    }
    let failed: Vec<&QueuedRecipient> = entry
        .recipients
        .iter()
        .filter(|r| r.state == RcptState::Failed && r.wants_failure_report())
        .collect();
    out.reports += usize::from(queue_report(
        ctx,
        &entry,
        &failed,
        Action::Failed,
        &message,
        now,
    )?);
    ctx.queue.remove(&entry.id)?;
    Ok(out)
}

/// Run `f` on the blocking pool (file I/O with fsync).
async fn blocking<T, F>(ctx: &Arc<Ctx>, f: F) -> Option<T>
where
    T: Send + 'static,
    F: FnOnce(&Ctx) -> T + Send + 'static,
{
    let ctx = ctx.clone();
    match tokio::task::spawn_blocking(move || f(&ctx)).await {
        Ok(v) => Some(v),
        Err(e) => {
            tracing::error!("queue task failed: {e}");
            None
        }
    }
}
